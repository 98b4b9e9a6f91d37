"""Start-up checks that turn a wrong DATABASE_URL (or DATABASE_REPLICA_URL) or an unreachable Redis into one clear line."""

from __future__ import annotations

from django.conf import settings


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def service_problems() -> list[str]:
    """Reach the database and, when configured, Redis; return one Chinese line per problem."""
    from django.db import connections

    problems: list[str] = []
    try:
        connections["default"].ensure_connection()
    except Exception as exc:  # noqa: BLE001 - any driver error means the same thing to the operator
        problems.append(f"无法连接数据库（请检查 DATABASE_URL）：{_first_line(exc)}")
    if "replica" in connections.settings:
        try:
            connections["replica"].ensure_connection()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"无法连接只读副本数据库（请检查 DATABASE_REPLICA_URL）：{_first_line(exc)}")
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"无法连接 Redis（请检查 REDIS_URL={settings.REDIS_URL}）：{_first_line(exc)}")
    return problems
