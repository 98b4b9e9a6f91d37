"""Lists: the inbox, the committee's queue, every visible case, a party's own cases, notices."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import (
    applying_units,
    person_of,
    role_names,
    roles_of,
)
from cases.models import Case, CaseState, Origin, Outcome
from listing.keyset import Keyset, KeysetPage, bounded_count
from rules.dates import cn_date
from rules.loader import registry

from .. import services
from ..models import Notification
from ..selectors import (
    FilterError,
    case_list_and_parts,
    clarifications_of,
    consultations_awaiting_reply,
    party_cases,
    units_for_filter,
)

PAGE_SIZE = 25
# The columns a list row shows (``workflow/inbox.html``): a case row also holds its long texts.
ROW_FIELDS = (
    "id", "reference", "title", "ruleset", "state", "outcome", "deadline", "created_at",
    "subject__name", "subject__kind", "subject__unit__name", "accountability_org__name",
    "handler__username", "applicant_unit__name",
)
NOTICES_PAGE_SIZE = 50
# Consultation requests awaiting the department's reply: on its home page, and a page of the full list.
HOME_WAITING = 20
WAITING_PAGE_SIZE = 50


def _list_context(request: HttpRequest, base_filters: dict[str, Any] | None = None) -> dict[str, Any]:
    filters = {
        k: request.GET.get(k, "")
        for k in ("state", "ruleset", "outcome", "unit", "from", "to", "q", "overdue")
    }
    merged = {**(base_filters or {}), **{k: v for k, v in filters.items() if v}}
    error = None
    try:
        qs, parts = case_list_and_parts(request.user, merged)
    except FilterError as exc:
        error = exc.message
        merged = base_filters or {}
        qs, parts = case_list_and_parts(request.user, merged)
    # Overdue cases first (across all pages), then the rest; each newest first, read from the index.
    overdue = Case.objects.overdue_condition()
    keyset = Keyset("created_at", size=PAGE_SIZE, segments=[overdue, ~overdue])
    # Each segment's keys branch by branch of the visibility rule (``parts``), each from its own index.
    page = keyset.page(qs.only(*ROW_FIELDS), after=request.GET.get("after", ""), before=request.GET.get("before", ""),
                       parts=parts)
    page.count, page.more = bounded_count(qs, parts=parts)
    for case in page.rows:
        case.overdue = case.is_overdue()  # type: ignore[attr-defined]
    return {
        "page": page,
        "rows": page.rows,
        "filters": filters,
        "filter_error": error or page.error or None,
        "states": CaseState.choices,
        "outcomes": Outcome.choices,
        "units": units_for_filter(request.user),
        "rulesets": registry().ids(),
        "querystring": urlencode({k: v for k, v in filters.items() if v}),
        # What the export button sends: the list exactly as shown (a queue's own state filter included).
        "export_filters": merged,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = role_names(request.user)
    ctx: dict[str, Any] = {"roles": roles}
    if Role.INSPECTOR in roles or Role.ADMIN in roles:
        ctx.update(_list_context(request))
        ctx["heading"] = "案件收件箱" if Role.INSPECTOR in roles else "全部案件"
        ctx["can_create"] = Role.INSPECTOR in roles
        return render(request, "workflow/inbox.html", ctx)
    if Role.COMMITTEE in roles:
        ctx.update(_list_context(request, {"state": f"{CaseState.PROPOSED},{CaseState.APPEALED}"}))
        ctx["heading"] = "待研究决定"
        ctx["review_queue"] = True
        ctx["review_states"] = [CaseState.PROPOSED, CaseState.APPEALED]
        return render(request, "workflow/inbox.html", ctx)
    if Role.ORGDEPT in roles:
        ctx.update(_list_context(request))
        ctx["heading"] = "会商与已决定案件"
        # The requests waiting longest; the rest on their own page (a department may have hundreds).
        waiting = consultations_awaiting_reply(request.user)
        first = list(waiting.order_by("proposal__proposed_at", "id")[:HOME_WAITING + 1])
        ctx["pending_consultations"] = first[:HOME_WAITING]
        if len(first) > HOME_WAITING:
            count, more = bounded_count(waiting)
            ctx["pending_count_label"] = KeysetPage([], count=count, more=more).count_label
        return render(request, "workflow/inbox.html", ctx)
    if person_of(request.user) is not None or applying_units(request.user):
        return my_cases(request)
    return render(request, "accounts/home.html", {"memberships": roles_of(request.user)})


@login_required
def consultations_waiting(request: HttpRequest) -> HttpResponse:
    """Every consultation request the user's organisation departments have still to answer, newest first."""
    if Role.ORGDEPT not in role_names(request.user):
        raise PermissionDenied("只有组织部门可以查看待回复的会商请求。")
    waiting = consultations_awaiting_reply(request.user)
    page = Keyset("proposal__proposed_at", size=WAITING_PAGE_SIZE).page(
        waiting, after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    page.count, page.more = bounded_count(waiting)
    today = timezone.localdate()
    for consultation in page.rows:
        consultation.days_waiting = (today - timezone.localdate(consultation.proposal.proposed_at)).days  # type: ignore[attr-defined]
    return render(request, "workflow/consultations_waiting.html", {"page": page, "rows": page.rows,
                                                                   "page_error": page.error})


@login_required
def case_index(request: HttpRequest) -> HttpResponse:
    ctx = _list_context(request)
    ctx["heading"] = "全部可见案件"
    ctx["can_create"] = Role.INSPECTOR in role_names(request.user)
    return render(request, "workflow/inbox.html", ctx)


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    units = applying_units(request.user)
    rows = list(party_cases(request.user))
    for case in rows:
        case.overdue = case.is_overdue()  # type: ignore[attr-defined]
        case.for_unit = (case.applicant_unit_id is not None or case.subject.is_unit) and (  # type: ignore[attr-defined]
            person is None or case.subject_id != person.pk
        )
        case.next_step = _next_step_for_cadre(case, for_unit=case.for_unit)  # type: ignore[attr-defined]
    clarifications = list(clarifications_of(person)) if person is not None else []
    return render(request, "workflow/my_cases.html", {"rows": rows, "person": person, "units": units,
                                                      "clarifications": clarifications})


def _next_step_for_cadre(case: Case, *, for_unit: bool = False) -> str:
    """The next step in plain words, for the cadre, the unit held accountable, or the unit that applied."""
    s = case.state
    unit_subject = case.subject.is_unit
    if s == CaseState.STARTED:
        if case.origin != Origin.APPLICATION:
            return "问责部门已在问责中启动容错程序，正在受理。"
        return "问责部门正在受理本单位的申请。" if for_unit else "问责部门正在受理您的申请。"
    if s == CaseState.INVESTIGATING:
        if unit_subject:
            return "正在调查核实；本单位可以补充陈述和材料。"
        return "正在调查核实；本单位可以补充材料。" if for_unit else "正在调查核实；您可以补充陈述和材料。"
    if s == CaseState.DECIDED and for_unit:
        return (
            "已作出决定，问责部门将书面反馈本单位。"
            if unit_subject
            else "已作出决定，问责部门将书面反馈干部本人和本单位。"
        )
    if s == CaseState.PROPOSED:
        return "调查结束，等待党委（党组）集体研究决定。"
    if s == CaseState.DECIDED:
        return "已作出决定，问责部门将书面反馈给您。"
    if s == CaseState.EXECUTED:
        if case.outcome == Outcome.REFUSED and case.appeal_deadline:
            return f"已送达不予容错的决定。如不服，可在 {cn_date(case.appeal_deadline)} 前申诉。"
        return "已送达书面反馈。"
    if s == CaseState.APPEALED:
        return "申诉已受理，等待复核。"
    if s == CaseState.CLOSED:
        return "已办结。"
    return "已撤回。"


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    preference_error = ""
    if request.method == "POST" and request.POST.get("form") == "preference":
        from django.contrib import messages
        from django.core.exceptions import ValidationError

        from accounts.services import user_notice_preference_set

        try:
            user_notice_preference_set(user=request.user, digest=request.POST.get("digest") == "1",
                                       email=request.POST.get("email", ""))
        except ValidationError as exc:
            preference_error = exc.messages[0]
        else:
            messages.success(request, "通知邮件设置已保存。")
            return redirect("notifications")
    elif request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("notifications")
    page = Keyset("created_at", size=NOTICES_PAGE_SIZE).page(
        Notification.objects.filter(user=request.user).select_related("case"),
        after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    from workflow.services.notices import mail_enabled

    return render(request, "workflow/notifications.html", {
        "items": page.rows, "page": page, "page_error": page.error, "mail_enabled": mail_enabled(),
        "preference_error": preference_error},
        status=400 if preference_error else 200)


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notice to its case; opening it marks it read. Another user's notice is not found."""
    notification = services.notification_open(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404
    if notification.case_id is None:
        return redirect("notifications")
    return redirect("case-detail", case_id=notification.case_id)
