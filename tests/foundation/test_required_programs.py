"""A test that drives a local program (redis-server) skips locally but fails in CI when it is missing."""

import shutil

import pytest

from tests.conftest import require_programs


@pytest.fixture
def no_redis_server(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: None if name == "redis-server" else real(name, *a, **kw))


def test_missing_program_fails_under_require_services(no_redis_server, monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")

    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SERVICES=1 but this test needs redis-server"):
        require_programs("redis-server", "redis-cli")


def test_missing_program_skips_locally(no_redis_server, monkeypatch):
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)

    with pytest.raises(pytest.skip.Exception, match="needs redis-server"):
        require_programs("redis-server")


def test_present_program_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: f"/usr/bin/{name}")

    require_programs("redis-server", "redis-cli")
