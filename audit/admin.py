"""The audit record in the admin: read-only, and visible to auditors only (not to system administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin_base import RecordAdmin

from .models import AuditEvent
from .permissions import is_auditor


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    list_display = ("at", "username", "action", "success", "ip", "method", "path", "status_code")
    list_filter = ("action", "success")
    search_fields = ("username", "path", "route", "detail", "object_id")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    actions: list[Any] = []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_auditor(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_auditor(request.user)
