"""Admin: cases may be corrected here, and every edit still writes the hash-chained history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cases.models import Case

from .doors import actor_for
from .models import HistoryEntry, OutboxEvent
from .services import case_admin_change


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "subject", "accountability_org", "state", "outcome", "deadline")
    list_filter = ("state", "outcome", "ruleset")
    search_fields = ("title", "subject__name")
    list_select_related = ("subject", "accountability_org")
    # State and outcome move only through the procedure's actions.
    readonly_fields = ("state", "outcome", "decided_at", "revision", "created_by", "delivered_on", "appeal_deadline",
                       "applicant", "applicant_unit", "origin")

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        case_admin_change(case=obj, actor=actor_for(request.user, request, via="admin"), changed=changed)

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(HistoryEntry)
class HistoryEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "actor_name", "action", "from_state", "to_state", "at", "via")
    list_filter = ("action", "via")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "case", "created_at", "dispatched_at", "attempts", "last_error")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
