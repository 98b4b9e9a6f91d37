"""Writing audit records, and the retention purge: the only two writes this app knows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rules.dates import cn_datetime

from .context import current_request
from .models import AuditEvent


def _client_ip(request: Any) -> str | None:
    # config's TrustedProxyMiddleware has already put the trusted client address here.
    meta = getattr(request, "META", None) or {}
    return meta.get("REMOTE_ADDR") or None


def audit_record(*, action: str, success: bool, request: Any = None, user: Any = None, username: str = "",
                 route: str = "", object_type: str = "", object_id: str = "", status_code: int | None = None,
                 detail: str = "") -> AuditEvent:
    """Record one event. ``request`` and ``user`` default to the request being served and its user."""
    request = request if request is not None else current_request.get()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    if user is not None and not username:
        username = user.get_username()
    return AuditEvent.objects.create(
        user_id=getattr(user, "pk", None), username=(username or "")[:150], action=action, success=success,
        ip=_client_ip(request), method=(getattr(request, "method", "") or "")[:10],
        path=(getattr(request, "get_full_path", lambda: "")() or "")[:500], route=route[:100],
        object_type=object_type[:50], object_id=str(object_id)[:50], status_code=status_code,
        detail=detail[:4000],
    )


class RetentionError(Exception):
    pass


def audit_purge(*, before: dt.datetime) -> int:
    """Delete records older than ``before``; refuses a cut-off inside the retention period
    (AUDIT_RETENTION_DAYS, at least 183 days: 网络安全法 第二十一条)."""
    days = settings.AUDIT_RETENTION_DAYS
    latest_allowed = timezone.now() - dt.timedelta(days=days)
    if before > latest_allowed:
        raise RetentionError(
            f"审计记录至少保存 {days} 天（《网络安全法》第二十一条要求不少于六个月）："
            f"只能清理 {cn_datetime(latest_allowed)} 之前的记录。")
    # The model refuses deletes on purpose; the purge is the one exception and goes through SQL.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE at < %s", [before])  # noqa: S608
        return cursor.rowcount
