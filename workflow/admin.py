"""Admin: an administrator may correct a case's descriptive text; the correction goes through the
same service as any other change (lock, validation, history). Everything else is read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.admin_base import RecordAdmin
from cases.models import Case

from .doors import actor_for
from .errors import WorkflowError
from .models import (
    CasePause,
    DeadlinePolicy,
    DeadlineStep,
    HistoryAnchor,
    HistoryEntry,
    HolidayCalendarDay,
    OutboxEvent,
)
from .services import case_admin_correct
from .services.housekeeping import ADMIN_CORRECTABLE


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "subject", "accountability_org", "state", "outcome", "deadline")
    list_filter = ("state", "outcome", "ruleset")
    search_fields = ("reference", "title", "subject__name")
    list_select_related = ("subject", "accountability_org")
    fields = ("title", "summary", "remedial_measures", "matter_category", "subject", "accountability_org",
              "handler", "ruleset", "conduct_date", "loss_amount", "disposition", "claimed_situations", "state",
              "outcome", "deadline", "decided_at", "delivered_on", "appeal_deadline", "origin", "applicant",
              "applicant_unit", "created_by", "revision")

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        return [name for name in self.fields if name not in ADMIN_CORRECTABLE]

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data.get(name) for name in form.changed_data if name in ADMIN_CORRECTABLE}
        try:
            case_admin_correct(case_id=obj.pk, actor=actor_for(request.user, request, via="admin"), changes=changes,
                               expected_revision=None)
        except WorkflowError as exc:
            request._case_admin_error = exc.message  # type: ignore[attr-defined]

    def response_change(self, request: HttpRequest, obj: Case) -> HttpResponse:
        error = getattr(request, "_case_admin_error", None)
        if error:  # nothing was written: say why and stay on the form
            self.message_user(request, f"未保存：{error}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(HistoryEntry)
class HistoryEntryAdmin(RecordAdmin):
    list_display = ("id", "case", "actor_name", "action", "from_state", "to_state", "at", "via", "algorithm")
    list_filter = ("action", "via", "algorithm")


@admin.register(HistoryAnchor)
class HistoryAnchorAdmin(HistoryEntryAdmin):
    """Read-only: anchors are written by anchor_history and Celery beat only."""

    list_display = ("id", "at", "count", "last_id", "last_hash", "algorithm")
    list_filter = ("algorithm",)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "case", "created_at", "dispatched_at", "attempts", "last_error")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- deadlines that act ---------------------------------------------------------------------------

@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    """An organisation's stage limits; blank fields inherit from the parent organisation, then the settings."""

    list_display = ("organisation", "days_kind", "started_days", "investigating_days", "proposed_days",
                    "decided_days", "appealed_days", "reminder_lead_days", "escalation_days", "inquiry_reply_months")
    autocomplete_fields = ("organisation",)
    fieldsets = (
        (None, {"fields": ("organisation", "days_kind")}),
        ("各环节办理期限（配置项，文件未规定）", {"fields": ("started_days", "investigating_days", "proposed_days",
                                                "decided_days", "appealed_days")}),
        ("催办与督办（配置项）", {"fields": ("reminder_lead_days", "escalation_days")}),
        ("函询（呼和浩特市纪委监委实施办法 第8条）", {"fields": ("inquiry_reply_months",)}),
        ("回访（配置项）", {"fields": ("return_visit_months",)}),
    )


@admin.register(HolidayCalendarDay)
class HolidayCalendarDayAdmin(admin.ModelAdmin):
    """Next year's holidays and make-up workdays as the State Council announces them (each November)."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(DeadlineStep)
class DeadlineStepAdmin(RecordAdmin):
    list_display = ("case", "stage", "round", "step", "deadline", "taken_at")
    list_filter = ("step", "stage")


@admin.register(CasePause)
class CasePauseAdmin(RecordAdmin):
    list_display = ("case", "stage", "reason", "started_at", "ended_at", "extended_days")
    list_filter = ("reason",)
