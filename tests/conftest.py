"""Shared fixtures: the demo world, API clients, the real services CI insists on, and the schema check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-pass-2026"


def pytest_sessionstart(session: pytest.Session) -> None:
    """With REQUIRE_SERVICES=1 (CI), a missing PostgreSQL or Redis fails the run instead of skipping."""
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"REQUIRE_SERVICES=1 but the database engine is {engine}; set DATABASE_URL", returncode=1)
    if not settings.REDIS_URL:
        pytest.exit("REQUIRE_SERVICES=1 but REDIS_URL is not set", returncode=1)
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"REQUIRE_SERVICES=1 but Redis is unreachable: {exc}", returncode=1)


def pytest_configure(config: pytest.Config) -> None:
    from tests import schema_check

    schema_check.install()
    # workbench: the rule registry reads no database in tests unless a test turns it on (tests/workbench).
    settings.RULES_FROM_DATABASE = False
    _flush_past_history_guards()


def _flush_past_history_guards() -> None:
    """Let the test runner empty the tables on PostgreSQL.

    Between transactional tests Django empties every table with one TRUNCATE, which the history tables
    refuse (workflow migration 0008). The runner is a superuser, so it does it as replication does:
    with ``session_replication_role = replica`` for that one transaction, which the application role
    (not a superuser) cannot set.
    """
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        if sql_list:
            sql_list = ["SET LOCAL session_replication_role = replica", *sql_list]
        original(self, sql_list)

    DatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose API responses (fixtures' included) do not match the published schema."""
    from tests import schema_check

    result = yield  # a test that failed already keeps its own failure
    mismatches = schema_check.take()
    if mismatches:
        pytest.fail("API responses that do not match the OpenAPI schema (see tests/schema_check.py):\n  "
                    + "\n  ".join(mismatches), pytrace=False)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from tests import schema_check

    schema_check.reset()


def needs_services() -> pytest.MarkDecorator:
    """Skip locally when PostgreSQL/Redis are not configured; CI sets them (and fails if unreachable)."""
    ok = "postgresql" in settings.DATABASES["default"]["ENGINE"] and bool(settings.REDIS_URL)
    return pytest.mark.skipif(not ok, reason="needs DATABASE_URL=postgres://... and REDIS_URL (set by .ci/run)")


def needs_postgresql() -> pytest.MarkDecorator:
    """Skip locally on SQLite; with REQUIRE_SERVICES=1 the session refuses to start without PostgreSQL,
    and an unreachable server fails the test when its database is set up (never a skip)."""
    ok = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    return pytest.mark.skipif(not ok, reason="needs DATABASE_URL=postgres://... (set by .ci/run)")


def require_programs(*names: str) -> None:
    """Skip locally when a program a test drives is not installed; with REQUIRE_SERVICES=1 (CI) fail instead."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} on PATH"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but this test {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _two_factor_off(settings):
    """Two-factor sign-in is off in every test (as in the demo run) unless the test turns it on."""
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture
def world(db):
    from workflow.management.demo.world import demo_world_seed

    return demo_world_seed(password=DEMO_PASSWORD)


@pytest.fixture
def api(world):
    """``api("inspector")`` returns a DRF client authenticated as that demo user."""
    from rest_framework.test import APIClient

    def make(username: str | None) -> APIClient:
        client = APIClient()
        if username:
            client.force_authenticate(world.users[username])
        return client

    return make


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_queues() -> str:
    """Every queue of settings, as the -Q list of a worker that must do all the work (tests, benchmarks)."""
    return ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES)


@pytest.fixture
def celery_worker_process(transactional_db) -> Iterator[subprocess.Popen]:
    """A real Celery worker process over Redis, pointed at the test database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _test_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Purge what earlier runs may have left on the queue before this worker starts.
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        cwd=ROOT, env=env, capture_output=True, timeout=60, check=False,
    )
    log = open(ROOT / "test-artifacts" / "celery-worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", worker_queues(), "--pool", "prefork",
         "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        from config.celery import app

        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: {(ROOT / 'test-artifacts' / 'celery-worker.log').read_text()}")
            replies = app.control.ping(timeout=1)
            if replies:
                break
        else:
            raise RuntimeError("celery worker did not answer ping within 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


os.makedirs(ROOT / "test-artifacts", exist_ok=True)


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Rate-limit counters live in the cache: each test starts with none, and never touches the Redis
    # database that Celery shares in CI.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "tests"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The demo world sets a dozen passwords per test; production hashing would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
