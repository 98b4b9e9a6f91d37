"""Settings from the environment: embedded default, production refusal, clear start-up errors."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE",
                                                      "HISTORY_HMAC_KEY"}}
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
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")

    known = _settings_env_names()
    for name in ("web", "worker", "beat"):
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
