"""Settings from the environment: embedded default, production refusal, clear start-up errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE",
                                                      "HISTORY_HMAC_KEY", "DATABASE_REPLICA_URL"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="0", SECRET_KEY="x" * 60 + "-a-long-random-production-key",
        ALLOWED_HOSTS="tolerance.example.gov", HISTORY_HMAC_KEY="h" * 40 + "-a-long-random-history-key",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unreachable_database_is_one_clear_line():
    result = run_manage("migrate", DATABASE_URL="postgres://nobody@127.0.0.1:1/nowhere")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "无法连接数据库" in lines[0] and "DATABASE_URL" in lines[0]


def test_malformed_database_url_is_one_clear_line():
    result = run_manage("migrate", DATABASE_URL="nonsense://what")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "DATABASE_URL" in result.stderr


def test_unreachable_redis_is_one_clear_line(tmp_path):
    result = run_manage(
        "migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "无法连接 Redis" in lines[0]


def test_embedded_default_is_sqlite_and_eager_tasks():
    code = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.LANGUAGE_CODE, s.TIME_ZONE)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["django.db.backends.sqlite3", "True", "zh-hans", "Asia/Shanghai"]


def _settings_env_names() -> set[str]:
    text = (ROOT / "config" / "settings.py").read_text()
    import re

    return set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"', text)) | set(re.findall(r'_bool\("([A-Z_]+)"', text))


def test_compose_services_point_at_real_modules_and_known_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "beat"} <= set(services)
    assert _compose_workers(services), "no Celery worker in compose"
    assert services["db"]["image"].startswith("postgres:16")

    known = _settings_env_names()
    app_services = [name for name, service in services.items() if "build" in service]
    assert {"web", "beat", *_compose_workers(services)} <= set(app_services)
    for name in app_services:
        service = services[name]
        command = " ".join(service["command"])
        if "gunicorn" in command:
            module = command.split("gunicorn ", 1)[1].split()[0].split(":")[0]
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module
        if "celery" in command:
            app = command.split("-A ", 1)[1].split()[0]
            assert (ROOT / app / "celery.py").exists()
        if "manage.py" in command:
            assert (ROOT / "manage.py").exists()
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {unknown}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "fonts-noto-cjk" in dockerfile and "libharfbuzz-subset0" in dockerfile


def _compose_workers(services: dict) -> dict[str, set[str]]:
    """Each Celery worker service of compose and the queues it consumes (its -Q list)."""
    workers = {}
    for name, service in services.items():
        command = service.get("command") or []
        if "celery" in command and "worker" in command:
            assert "-Q" in command, f"{name} consumes no named queue"
            workers[name] = set(command[command.index("-Q") + 1].split(","))
    return workers


def _routed_queue(app, task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_task_is_routed_to_a_queue_a_compose_worker_consumes(settings):
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: import every app's tasks.py
    tasks = {name for name in app.tasks if not name.startswith("celery.")}
    assert {"reports.tasks.document_generate", "workflow.tasks.deadlines_check"} <= tasks

    # One table: every task of the project is listed, none reaches the default queue by omission.
    assert tasks - set(settings.CELERY_TASK_ROUTES) == set(), "tasks missing from CELERY_TASK_ROUTES"
    assert set(settings.CELERY_TASK_ROUTES) - tasks == set(), "CELERY_TASK_ROUTES names tasks that do not exist"
    declared = {q.name for q in settings.CELERY_TASK_QUEUES}
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default" and "default" in declared

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    workers = _compose_workers(compose["services"])
    consumed = set().union(*workers.values())
    assert consumed == declared, f"queues without a worker: {declared - consumed}; unknown: {consumed - declared}"
    for name in tasks:
        assert _routed_queue(app, name) in consumed, name
    # Beat's entries go through the same table.
    for entry, spec in settings.CELERY_BEAT_SCHEDULE.items():
        assert spec["task"] in tasks, entry
        assert _routed_queue(app, spec["task"]) in consumed, entry
    # What each kind of work is for: heavy work has a queue of its own.
    assert _routed_queue(app, "reports.tasks.document_generate") == "documents"
    assert _routed_queue(app, "reports.tasks.outbox_dispatch") == "documents"
    assert _routed_queue(app, "reports.tasks.export_build") == "exports"
    assert _routed_queue(app, "workflow.tasks.deadlines_check") == "deadlines"
    assert _routed_queue(app, "reports.tasks.annual_report_generate") == "statistics"
    # The documents worker has the most processes.
    concurrency = {name: int(compose["services"][name]["command"][compose["services"][name]["command"].index(
        "--concurrency") + 1]) for name, queues in workers.items()}
    documents = next(name for name, queues in workers.items() if "documents" in queues)
    assert concurrency[documents] == max(concurrency.values()) and list(concurrency.values()).count(
        concurrency[documents]) == 1


@pytest.mark.django_db
def test_queues_play_no_part_in_the_embedded_run(settings):
    """Embedded (no REDIS_URL) tasks run in-process whatever queue they are routed to: no broker, no worker."""
    from config.celery import app
    from workflow.tasks import cases_close_expired

    assert settings.CELERY_TASK_ROUTES["workflow.tasks.cases_close_expired"] == {"queue": "deadlines"}
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True  # what settings choose without REDIS_URL
    try:
        result = cases_close_expired.apply_async()
    finally:
        app.conf.task_always_eager = saved
    assert type(result).__name__ == "EagerResult" and result.get() == 0


def test_replica_alias_only_when_configured_and_a_bad_replica_url_is_one_clear_line():
    code = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');django.setup();"
        "from django.conf import settings as s;"
        "print(sorted(s.DATABASES), s.DATABASES.get('replica', {}).get('NAME'),"
        " s.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"}}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['default']", "None", "None"]
    env["DATABASE_REPLICA_URL"] = "postgres://reader@replica.example:5432/tolerance"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['default',", "'replica']", "tolerance", "default"]

    result = run_manage("migrate", DATABASE_REPLICA_URL="nonsense://what")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "DATABASE_REPLICA_URL" in result.stderr and "nonsense" in result.stderr


@pytest.mark.django_db
def test_without_a_replica_every_query_goes_to_the_primary():
    from django.db import connections, router

    from cases.models import Case
    from reports.replica import replica_reads

    assert "replica" not in connections.settings
    with replica_reads():
        assert router.db_for_read(Case) == "default"
        assert router.db_for_write(Case) == "default"
        assert Case.objects.count() == 0


def test_unreachable_replica_is_one_clear_line(tmp_path):
    result = run_manage("migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        DATABASE_REPLICA_URL="postgres://nobody@127.0.0.1:1/nowhere")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "只读副本" in lines[0] and "DATABASE_REPLICA_URL" in lines[0]


# Addresses that name something and are never fetched: XML namespaces, and the licence notices
# that vendored libraries (ECharts) must keep.
NAMES_NOT_FETCHED = ("http://www.w3.org", "http://www.apache.org/licenses/LICENSE-2.0",
                     "https://github.com/ecomfe/zrender/blob/master/LICENSE.txt")


def test_templates_and_static_reference_no_external_hosts():
    offenders = []
    for folder in ("templates", "static"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".html", ".css", ".js"}:
                text = path.read_text(errors="ignore")
                for name in NAMES_NOT_FETCHED:
                    text = text.replace(name, "")
                for marker in ("https://", "http://", "//cdn", "fonts.googleapis"):
                    if marker in text:
                        offenders.append(f"{path.relative_to(ROOT)}: {marker}")
    assert not offenders


def test_compose_stack_terminates_tls_runs_unprivileged_and_has_no_default_secrets():
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    services = compose["services"]
    # TLS in front, gunicorn reachable only through it.
    assert services["proxy"]["image"].startswith("caddy:") and "443:443" in services["proxy"]["ports"]
    assert "ports" not in services["web"]
    assert "tls internal" in (ROOT / "deploy" / "Caddyfile").read_text()
    # No secret has a fallback value: compose refuses to start without each.
    for name in ("SECRET_KEY", "HISTORY_HMAC_KEY", "POSTGRES_PASSWORD", "SITE_URL"):
        assert f"${{{name}:?" in text, name
        assert f"${{{name}:-" not in text, name
    # Redis keeps the queue: append-only file, no eviction.
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "--maxmemory-policy noeviction" in redis
    # Containers run as an unprivileged user; the access log names the user.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER app\n" in dockerfile
    web = " ".join(services["web"]["command"])
    assert "--access-logfile -" in web and "x-log-user" in web
    assert services["web"]["environment"]["ACCESS_LOG_USER"] == "1"


def test_access_log_header_names_the_user_only_when_switched_on(client, settings, world):
    client.force_login(world.users["inspector"])
    settings.ACCESS_LOG_USER = False
    assert "X-Log-User" not in client.get("/")
    settings.ACCESS_LOG_USER = True
    assert client.get("/")["X-Log-User"] == str(world.users["inspector"].pk)
    client.logout()
    assert "X-Log-User" not in client.get("/login/")
