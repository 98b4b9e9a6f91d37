"""Audit by route: reads of case material and exports (URL names from settings), every 403, every 404
on an object route, a session timeout, and every admin form submitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import current_request
from .models import AuditAction
from .services import audit_record

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _object_of(kwargs: dict[str, Any]) -> tuple[str, str]:
    """("case", "12") from {"case_id": 12, "evidence_id": 3}: the innermost object the route names."""
    ids = [(k[:-3], str(v)) for k, v in kwargs.items() if k.endswith("_id")]
    return ids[-1] if ids else ("", "")


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        # Who came in: a timed-out session has become anonymous by the time the answer comes back.
        arriving = getattr(request, "user", None)
        arriving = arriving if arriving is not None and arriving.is_authenticated else None
        try:
            response = self.get_response(request)
            self._record(request, response, arriving)
        finally:
            current_request.reset(token)
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, arriving: Any) -> None:
        status = response.status_code
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match else ""
        kwargs = match.kwargs if match else {}
        object_type, object_id = _object_of(kwargs)
        common = {"route": route, "object_type": object_type, "object_id": object_id, "status_code": status}
        timeout = getattr(request, "session_timeout", None)
        if timeout:
            audit_record(action=AuditAction.SESSION_TIMEOUT, success=True, request=request, user=arriving, **common,
                         detail="空闲超时" if timeout == "idle" else "超过最长会话时间")
            return
        if status == 403:
            audit_record(action=AuditAction.DENIED, success=False, request=request, **common)
        elif status == 404 and kwargs:
            audit_record(action=AuditAction.NOT_FOUND, success=False, request=request, **common)
        elif route in settings.AUDIT_EXPORT_URL_NAMES:
            audit_record(action=AuditAction.EXPORT, success=status < 400, request=request, **common)
        elif route in settings.AUDIT_READ_URL_NAMES and request.method == "GET":
            audit_record(action=AuditAction.READ, success=status < 400, request=request, **common)
        elif (match is not None and match.namespace == "admin" and request.method in UNSAFE_METHODS
              and route not in {"admin:login", "admin:logout"}):
            action = request.POST.get("action", "") if request.method == "POST" else ""
            audit_record(action=AuditAction.ADMIN_CHANGE, success=status < 400, request=request, **common,
                         detail=f"提交管理表单{('：批量操作 ' + action) if action else ''}")
