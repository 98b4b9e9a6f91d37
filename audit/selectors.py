"""Searching the audit record (for auditors only: the views check ``is_auditor`` first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditAction, AuditEvent

FILTER_KEYS = ("from", "to", "username", "action", "success", "ip", "q")


@dataclass
class FilterError(Exception):
    message: str


def _day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}日期格式无效，应为 YYYY-MM-DD。") from None


def audit_events(filters: dict[str, str]) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    tz = timezone.get_current_timezone()
    if filters.get("from"):
        start = dt.datetime.combine(_day(filters["from"], "起始"), dt.time.min, tzinfo=tz)
        qs = qs.filter(at__gte=start)
    if filters.get("to"):
        end = dt.datetime.combine(_day(filters["to"], "截止") + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(at__lt=end)
    if filters.get("username"):
        qs = qs.filter(username__iexact=filters["username"].strip())
    if filters.get("action"):
        if filters["action"] not in AuditAction.values:
            raise FilterError("事件类型无效。")
        qs = qs.filter(action=filters["action"])
    if filters.get("success") in {"1", "0"}:
        qs = qs.filter(success=filters["success"] == "1")
    elif filters.get("success"):
        raise FilterError("结果只能是“成功”或“失败”。")
    if filters.get("ip"):
        qs = qs.filter(ip=filters["ip"].strip()) if _is_ip(filters["ip"]) else qs.none()
    if filters.get("q"):
        text = filters["q"].strip()
        qs = qs.filter(Q(path__icontains=text) | Q(route__icontains=text) | Q(detail__icontains=text)
                       | Q(object_id=text))
    return qs


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True
