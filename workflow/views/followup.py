"""Pages of the follow-through: the 回访 list and a visit's record, clarifications, failures to tolerate."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Person
from accounts.selectors import people_visible_to
from listing.keyset import Keyset, bounded_count

from .. import followup_policy as policy
from .. import services
from ..doors import actor_for, form_errors_from
from ..errors import WorkflowError
from ..followup_forms import (
    ClarificationForm,
    FailureDismissForm,
    FailureOpenCaseForm,
    VisitAddForm,
    VisitCompleteForm,
)
from ..models import FailureStatus
from ..permissions import scope_of
from ..selectors import (
    case_get,
    case_or_404,
    clarifications_visible,
    failures_visible,
    return_visits_assigned,
    return_visits_filter,
)
from ..services.followup import clarifying_orgs

PAGE_SIZE = 25

# Policy text shown on the pages, quoted verbatim with citations (``workflow.followup_policy``).
CITE_VISITS = "；".join(str(c) for c in policy.VISITS)
CITE_CLARIFY = "；".join(str(c) for c in policy.CLARIFICATION)
CITE_FAILURE = "；".join(str(c) for c in policy.FAILURE)


def _internal_only(request: HttpRequest) -> None:
    if not scope_of(request.user).internal:
        raise Http404


@login_required
def visit_index(request: HttpRequest) -> HttpResponse:
    """回访: the visits on the cases the officer may see, overdue first, then due, then done."""
    _internal_only(request)
    today = timezone.localdate()
    visits = return_visits_assigned(request.user)
    if request.GET.get("mine", "1") == "1":
        visits = visits.filter(assignee=request.user)
    try:
        visits, status = return_visits_filter(visits, request.GET)
    except ValueError as exc:
        return render(request, "400.html", {"message": str(exc)}, status=400)
    rows = list(visits[:500])
    groups = [
        ("overdue", "已超期", [v for v in rows if not v.done and v.due_on < today]),
        ("due", "待回访", [v for v in rows if not v.done and v.due_on >= today]),
        ("done", "已完成", sorted([v for v in rows if v.done], key=lambda v: v.visited_on, reverse=True)),
    ]
    if status:
        groups = [g for g in groups if g[0] == status]
    return render(request, "workflow/followup/visits.html", {
        "groups": groups, "mine": request.GET.get("mine", "1") == "1", "cite": CITE_VISITS, "today": today})


def _back_to_visits(case_id: int) -> HttpResponse:
    return redirect(reverse("case-detail", args=[case_id]) + "?tab=visits")


@login_required
@require_POST
def visit_complete(request: HttpRequest, case_id: int, visit_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    if not case.return_visits.filter(pk=visit_id).exists():
        raise Http404
    form = VisitCompleteForm(request.POST, prefix=f"visit{visit_id}")
    if form.is_valid():
        try:
            services.visit_complete(case_id=case.pk, actor=actor_for(request.user, request), visit_id=visit_id,
                                    **form.cleaned_data)
        except WorkflowError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "回访情况已记录。")
            return _back_to_visits(case.pk)
    from .case import _case_page

    return _case_page(request, case, tab="visits", status=400, extra={"visit_forms": {visit_id: form}})


@login_required
@require_POST
def visit_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = VisitAddForm(request.POST, prefix="visit_add")
    if form.is_valid():
        try:
            services.visit_add(case_id=case.pk, actor=actor_for(request.user, request), **form.cleaned_data)
        except WorkflowError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "已安排回访。")
            return _back_to_visits(case.pk)
    from .case import _case_page

    return _case_page(request, case, tab="visits", status=400, extra={"visit_add_form": form})


# --- clarifications --------------------------------------------------------------------------------

@login_required
def clarification_index(request: HttpRequest) -> HttpResponse:
    _internal_only(request)
    qs = clarifications_visible(request.user)
    page = Keyset("decided_on", size=PAGE_SIZE).page(qs, after=request.GET.get("after", ""),
                                                     before=request.GET.get("before", ""))
    page.count, page.more = bounded_count(qs)
    return render(request, "workflow/followup/clarifications.html",
                  {"page": page, "cite": CITE_CLARIFY, "position_error": page.error})


def _org_choices(ids: list[int]) -> list[tuple[int, str]]:
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [(pk, names[pk]) for pk in dict.fromkeys(ids) if pk in names]


@login_required
def clarification_new(request: HttpRequest) -> HttpResponse:
    """A clarification from a case (``?case=``) or on its own (the cadre chosen here)."""
    _internal_only(request)
    case = None
    if request.GET.get("case") or request.POST.get("case"):
        case = case_get(request.user, request.GET.get("case") or request.POST.get("case"))
        if case is None:
            raise Http404
    people = people_visible_to(request.user).filter(kind="cadre").order_by("name")
    person: Person | None = case.subject if case is not None else None
    if request.method == "POST" and person is None:
        chosen = (request.POST.get("person") or "").strip()
        # Anything but a plausible id finds nobody, and the form then asks for a cadre (never a 500).
        person = people.filter(pk=int(chosen)).first() if chosen.isdigit() and len(chosen) < 19 else None
    org_ids = clarifying_orgs(request.user, person, case) if person is not None else sorted(
        scope_of(request.user).inspector_org_ids)
    form = ClarificationForm(request.POST or None, people=people, organisations=_org_choices(org_ids),
                             fixed_person=case is not None,
                             initial={"decided_on": timezone.localdate().isoformat(), "scope": "unit"})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("person", None)
        if person is None:
            form.add_error("person", "请选择被澄清干部。")
        else:
            try:
                services.clarification_record(actor=actor_for(request.user, request), person=person, case=case,
                                              organisation_id=data.pop("organisation"), **data)
            except WorkflowError as exc:
                form_errors_from(exc, form)
            else:
                messages.success(request, f"已为{person.name}澄清正名。")
                return redirect("clarification-index")
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/followup/clarification_new.html",
                  {"form": form, "case": case, "cite": CITE_CLARIFY}, status=status)


# --- failures to tolerate --------------------------------------------------------------------------

@login_required
def failure_index(request: HttpRequest, *, forms: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    _internal_only(request)
    wanted = request.GET.get("status", FailureStatus.OPEN)
    qs = failures_visible(request.user)
    if wanted in FailureStatus.values:
        qs = qs.filter(status=wanted)
    page = Keyset("created_at", size=PAGE_SIZE).page(qs, after=request.GET.get("after", ""),
                                                     before=request.GET.get("before", ""))
    page.count, page.more = bounded_count(qs)
    bound = forms or {}
    rows = [{"failure": f, "dismiss": bound.get(f"dismiss{f.pk}") or FailureDismissForm(prefix=f"dismiss{f.pk}"),
             "open_case": bound.get(f"open{f.pk}") or FailureOpenCaseForm(prefix=f"open{f.pk}")} for f in page.rows]
    return render(request, "workflow/followup/failures.html", {
        "page": page, "rows": rows, "status": wanted, "statuses": FailureStatus.choices, "cite": CITE_FAILURE,
        "may_resolve": scope_of(request.user).inspector_org_ids, "querystring": urlencode({"status": wanted}),
        "position_error": page.error,
    }, status=status)


@login_required
@require_POST
def failure_resolve(request: HttpRequest, failure_id: int, how: str) -> HttpResponse:
    if not failures_visible(request.user).filter(pk=failure_id).exists():
        raise Http404
    if how not in ("dismiss", "open-case"):
        raise Http404
    actor = actor_for(request.user, request)
    if how == "dismiss":
        form: Any = FailureDismissForm(request.POST, prefix=f"dismiss{failure_id}")
        key = f"dismiss{failure_id}"
    else:
        form = FailureOpenCaseForm(request.POST, prefix=f"open{failure_id}")
        key = f"open{failure_id}"
    if form.is_valid():
        try:
            if how == "dismiss":
                services.failure_dismiss(actor=actor, failure_id=failure_id, reason=form.cleaned_data["reason"])
                messages.success(request, "已排除该问题。")
            else:
                services.failure_open_case(actor=actor, failure_id=failure_id, case_id=form.cleaned_data["case"],
                                           note=form.cleaned_data["note"])
                messages.success(request, "已关联立案案件。")
        except WorkflowError as exc:
            form_errors_from(exc, form)
        else:
            return redirect("failure-index")
    return failure_index(request, forms={key: form}, status=400)
