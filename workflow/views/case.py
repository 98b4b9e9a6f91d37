"""The case page, the committee's decision page, and running an action from its form."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.models import Case, CaseState, MatterCategory
from cases.selectors import case_evaluation
from rules.errors import RuleError
from rules.loader import registry
from rules.presentation import clause_label, for_people, meaning

from .. import followup_policy, services
from .. import forms as f
from ..actions import ACTIONS, action_form, action_run, consultations_outstanding, drafts_kept
from ..doors import actor_for, form_errors_from
from ..errors import StaleRevision, WorkflowError
from ..models import Consultation, Draft
from ..permissions import (
    allowed_actions,
    appeals_visible,
    can,
    can_decide_but_for_consultations,
    evidence_visible,
    sees_evaluation,
    sees_internal,
    sees_party_material,
)
from ..selectors import (
    case_get,
    case_history_for,
    case_or_404,
    case_page_or_404,
    case_part_present,
    pending_consultations,
)
from ..services.followup import may_clarify
from ..services.reminders import case_deadline_info

KIND_ORDER = [
    ("P", "前置条件（须全部符合）"),
    ("S", "容错情形（至少符合一项）"),
    ("R", "程序要求"),
    ("X", "不予容错情形（均不得存在）"),
    ("M", "从轻减轻情形"),
]


def _trace_groups(
    evaluation: dict[str, Any], findings: dict[str, Any], evidence: list[Any] | None = None
) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k, _ in KIND_ORDER}
    by_clause: dict[str, list[Any]] = {}
    for e in evidence or []:
        if e.clause_id:
            by_clause.setdefault(e.clause_id, []).append(e)
    for item in evaluation.get("trace", []):
        kind = item.get("kind") or item["clause"].split(".")[-1][0]
        row = dict(item)
        row["finding"] = findings.get(item["clause"])
        if row["finding"] is not None:
            row["finding_meaning"], row["finding_meaning_label"] = meaning(kind, row["finding"].status)
        row["evidence"] = by_clause.get(item["clause"], [])
        groups.setdefault(kind, []).append(row)
    return [{"kind": k, "label": label, "items": groups[k]} for k, label in KIND_ORDER if groups.get(k)]


def _clause_labels(case: Case, evaluation: dict[str, Any] | None) -> dict[str, str]:
    """Clause id → how people name it (title and article), also for users who do not see the evaluation."""
    if evaluation:
        return {t["clause"]: t["label"] for t in evaluation.get("trace", [])}
    try:
        version = registry().version_for(case.ruleset, case.conduct_date)
    except RuleError:
        return {}
    return {c.id: clause_label(version, c.id) for c in version.clauses}


def _action_forms(
    request: HttpRequest, case: Case, actions: list[str], bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The form of each offered action: a form the user just submitted, else drafts over defaults."""
    from django.utils import timezone

    if not actions:
        return {}
    drafts = ({d.form: d.data for d in Draft.objects.filter(case=case, user=request.user)}
              if case_part_present(case, "drafts") else {})
    today = timezone.localdate().isoformat()
    defaults = {
        "decide": {"meeting_date": today},
        "review_appeal": {"meeting_date": today},
        "execute": {"delivered_on": today},
    }
    result: dict[str, Any] = {}
    for action in actions:
        if bound and action in bound:
            result[action] = bound[action]
            continue
        initial = {**defaults.get(action, {}), "revision": case.revision, **drafts.get(action, {})}
        result[action] = action_form(action, case, initial=initial)
    return result


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
    review: bool = False,
    tab: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    user = request.user
    actions = allowed_actions(user, case)
    internal = sees_internal(user, case)
    evaluation = None
    evaluation_error = None
    # A part of the record without rows is not read (``case_page_or_404`` asked which have any).
    has = partial(case_part_present, case)
    finding_rows = list(case.findings.select_related("recorded_by")) if has("findings") else []
    findings = {x.clause_id: x for x in finding_rows}
    if sees_evaluation(user, case):
        try:
            evaluation = for_people(case_evaluation(case, findings=finding_rows).to_dict())
        except RuleError as exc:
            evaluation_error = str(exc)
    proposals = []
    if internal and has("proposals"):
        proposals = list(
            case.proposals.prefetch_related(
                Prefetch(
                    "consultations",
                    queryset=Consultation.objects.select_related("organisation", "replied_by"),
                )
            ).select_related("proposed_by")
        )
    decisions = list(case.decisions.select_related("recorded_by")) if has("decisions") else []
    party_material = sees_party_material(user, case)
    evidence = list(evidence_visible(user, case).select_related("uploaded_by")) if has("evidence") else []
    clause_choices = []
    if evaluation:
        clause_choices = [(t["clause"], t["label"]) for t in evaluation.get("trace", [])]
    clause_labels = _clause_labels(case, evaluation)
    for e in evidence:  # the evidence table names each item's clause (empty: a clause this rule set lacks)
        e.clause_label = clause_labels.get(e.clause_id, "") if e.clause_id else ""
    ctx = {
        "case": case,
        "overdue": case.is_overdue(),
        "actions": actions,
        "action_labels": {a: ACTIONS[a].label for a in actions},
        "action_forms": _action_forms(request, case, actions, bound),
        "draftable": [a for a in actions if drafts_kept(a)],
        "internal": internal,
        "evaluation": evaluation,
        "evaluation_error": evaluation_error,
        "groups": _trace_groups(evaluation, findings, evidence) if evaluation else [],
        "can_record": can(user, "record_finding", case),
        "can_upload": can(user, "add_evidence", case),
        "can_state": can(user, "add_statement", case),
        "can_participant": can(user, "add_participant", case),
        "evidence": evidence,
        "clause_labels": clause_labels,
        "claimed_labels": [clause_labels.get(c, "（本规则集无此条款）") for c in case.claimed_situations or []],
        "statements": list(case.statements.select_related("author")) if party_material and has("statements") else [],
        # Shown to officials only.
        "participants": list(case.participants.all()) if internal and has("participants") else [],
        "proposals": proposals,
        "decisions": decisions,
        "appeals": list(appeals_visible(user, case).select_related("filed_by")) if has("appeals") else [],
        "party_material": party_material,
        "recusals": list(case.recusals.select_related("member")) if party_material and has("recusals") else [],
        "clock": _clock(case) if internal else {},
        "history": case_history_for(user, case)[0],
        "evidence_form": f.EvidenceForm(clauses=clause_choices),
        "statement_form": f.StatementForm(auto_id="id_statement_%s"),
        "participant_form": f.ParticipantForm(auto_id="id_participant_%s"),
        "finding_form": f.FindingForm(),
        "tab": tab or request.GET.get("tab", "facts"),
        "matter_label": MatterCategory(case.matter_category).label if case.matter_category else "",
    }
    ctx.update(_visits_context(user, case, internal, extra or {}))
    template = "workflow/case_detail.html"
    if review:
        template = "workflow/review.html"
        ctx["review_action"] = next((a for a in ("decide", "review_appeal") if a in actions), None)
        pending = pending_consultations(case) if case.state == CaseState.PROPOSED else []
        if pending and "decide" not in actions and can_decide_but_for_consultations(user, case):
            ctx["decision_blocked"] = consultations_outstanding(case)
            ctx["pending_consultations"] = pending
        ctx["latest_proposal"] = proposals[-1] if proposals else None
    return render(request, template, ctx, status=status)


def _visits_context(user: Any, case: Case, internal: bool, extra: dict[str, Any]) -> dict[str, Any]:
    """The 回访 tab: the plan for everyone who sees the case; the record and its forms for officials."""
    from ..followup_forms import VisitAddForm, VisitCompleteForm
    from ..selectors import return_visits_for

    visits = list(return_visits_for(user, case)) if case_part_present(case, "return_visits") else []
    may_complete = can(user, "complete_visit", case)
    bound = extra.get("visit_forms", {})
    for visit in visits:
        if may_complete and not visit.done:
            visit.complete_form = bound.get(visit.pk) or VisitCompleteForm(  # type: ignore[attr-defined]
                prefix=f"visit{visit.pk}", initial={"form": visit.form})
    return {
        "return_visits": visits,
        "visits_internal": internal,
        "visit_add_form": (extra.get("visit_add_form") or VisitAddForm(prefix="visit_add"))
        if can(user, "schedule_visit", case) else None,
        "can_clarify": internal and not case.subject.is_unit and may_clarify(user, case.subject, case),
        "visits_cite": "；".join(str(c) for c in followup_policy.VISITS),
    }


def _clock(case: Case) -> dict[str, Any]:
    """The stage clock's pauses and how far they moved the deadline (officials see it)."""
    if not case_part_present(case, "pauses"):
        return {"pauses": [], "paused": False, "extended_days": 0}
    return case_deadline_info(case)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, case_page_or_404(request.user, case_id))


@login_required
def case_review(request: HttpRequest, case_id: int) -> HttpResponse:
    """The committee's decision page: proposal, evaluation trace and opinions beside the decision form."""
    case = case_page_or_404(request.user, case_id)
    if not sees_internal(request.user, case):
        raise Http404
    return _case_page(request, case, review=True)


@login_required
def evaluation_fragment(request: HttpRequest, case_id: int) -> HttpResponse:
    """The live evaluation panel, re-fetched by the page after a finding is saved."""
    case = case_or_404(request.user, case_id)
    if not sees_evaluation(request.user, case):
        raise Http404
    finding_rows = list(case.findings.select_related("recorded_by"))
    findings = {x.clause_id: x for x in finding_rows}
    evaluation = for_people(case_evaluation(case, findings=finding_rows).to_dict())
    evidence = list(evidence_visible(request.user, case))
    return render(
        request,
        "workflow/_evaluation.html",
        {
            "case": case,
            "evaluation": evaluation,
            "groups": _trace_groups(evaluation, findings, evidence),
            "can_record": can(request.user, "record_finding", case),
            "finding_form": f.FindingForm(),
        },
    )


def _draft_data(request: HttpRequest) -> dict[str, Any]:
    """Form fields to keep in a draft; multi-value fields keep all their values."""
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists() if not k.startswith("_")}


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """Run one offered action from its page form, or keep the form as a draft."""
    case = case_or_404(request.user, case_id)
    spec = ACTIONS.get(action)
    if spec is None or not spec.offered:
        raise Http404
    if request.POST.get("_draft"):
        if not spec.drafts or not can(request.user, action, case):
            messages.error(request, "此表单不能保存草稿。")
        else:
            services.draft_save(case=case, user=request.user, form=action, data=_draft_data(request))
            messages.success(request, "草稿已保存，案件状态未改变。")
        return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=actions")
    form = action_form(action, case, data=request.POST)
    if form.is_valid():
        data = {**form.cleaned_data, "attachments": request.FILES.getlist("attachments")}
        try:
            action_run(action, case, actor_for(request.user, request), data)
        except StaleRevision as exc:
            return _stale(request, case, action, exc)
        except WorkflowError as exc:
            if exc.status in (403, 409):
                messages.error(request, exc.message)
                return redirect("case-detail", case_id=case.pk)
            form_errors_from(exc, form)
        else:
            services.draft_discard(case=case, user=request.user, form=action)
            messages.success(request, f"已完成：{spec.label}")
            if (
                case_get(request.user, case.pk) is None
            ):  # e.g. a withdrawn application the user no longer sees
                return redirect("home")
            return redirect("case-detail", case_id=case.pk)
    refreshed = case_or_404(request.user, case_id)
    review = request.POST.get("_from") == "review" and action in {"decide", "review_appeal"}
    # Re-render with the actions panel open so the error beside the field is visible.
    return _case_page(request, refreshed, bound={action: form}, status=400, review=review, tab="actions")


def _stale(request: HttpRequest, case: Case, action: str, exc: StaleRevision) -> HttpResponse:
    """Someone changed the case since the form was drawn: keep what the user typed as a draft."""
    kept = ""
    refreshed = case_get(request.user, case.pk)
    if refreshed is not None and drafts_kept(action) and can(request.user, action, refreshed):
        services.draft_save(case=refreshed, user=request.user, form=action, data=_draft_data(request))
        kept = "；您填写的内容已保存为草稿"
    messages.error(request, f"{exc.message}（此案件已变化，以下为最新状态{kept}）")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=actions")
