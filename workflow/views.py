"""Pages: inbox, review queue, my cases, the case page with its action forms, applications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import (
    applying_units,
    people_visible_to,
    person_of,
    role_names,
    roles_of,
)
from cases.models import Case, CaseState, MatterCategory, Origin, Outcome
from cases.selectors import case_evaluation
from rules.errors import RuleError
from rules.loader import registry

from . import forms as f
from . import services
from .actions import ACTIONS, action_form, action_run, drafts_kept
from .doors import actor_for
from .errors import StaleRevision, WorkflowError
from .models import Consultation, Draft, Notification
from .permissions import (
    allowed_actions,
    appeals_visible,
    can,
    evidence_visible,
    sees_evaluation,
    sees_internal,
    sees_party_material,
)
from .selectors import (
    FilterError,
    application_choices,
    case_get,
    case_history_for,
    case_list,
    case_or_404,
    overdue_first,
    party_cases,
)

KIND_ORDER = [("P", "容错条件（须全部符合）"), ("S", "容错情形（至少符合一项）"), ("R", "程序要求"),
              ("X", "不予容错情形（均不得存在）"), ("M", "从轻减轻情形")]
PAGE_SIZE = 25


def _list_context(request: HttpRequest, base_filters: dict[str, Any] | None = None) -> dict[str, Any]:
    filters = {k: request.GET.get(k, "") for k in ("state", "ruleset", "outcome", "unit", "from", "to", "q", "overdue")}
    merged = {**(base_filters or {}), **{k: v for k, v in filters.items() if v}}
    error = None
    try:
        qs = case_list(request.user, merged)
    except FilterError as exc:
        error = exc.message
        qs = case_list(request.user, base_filters or {})
    page = Paginator(overdue_first(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for case in rows:
        case.overdue = case.is_overdue()  # type: ignore[attr-defined]
    units = Organisation.objects.filter(kind__in=[OrgKind.UNIT, OrgKind.FUNCTIONAL]).order_by("name")
    return {
        "page": page, "rows": rows, "filters": filters, "filter_error": error,
        "states": CaseState.choices, "outcomes": Outcome.choices, "units": units,
        "rulesets": registry().ids(),
        "querystring": "&".join(f"{k}={v}" for k, v in filters.items() if v),
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
        consults = Consultation.objects.filter(
            organisation__in=[m.organisation for m in roles_of(request.user) if m.role == Role.ORGDEPT],
            replied_at__isnull=True,
        ).select_related("proposal__case__subject")
        ctx["pending_consultations"] = consults
        return render(request, "workflow/inbox.html", ctx)
    if person_of(request.user) is not None or applying_units(request.user):
        return my_cases(request)
    return render(request, "accounts/home.html", {"memberships": roles_of(request.user)})


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
            person is None or case.subject_id != person.pk)
        case.next_step = _next_step_for_cadre(case, for_unit=case.for_unit)  # type: ignore[attr-defined]
    return render(request, "workflow/my_cases.html", {"rows": rows, "person": person, "units": units})


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
        return "已作出决定，问责部门将书面反馈本单位。" if unit_subject else "已作出决定，问责部门将书面反馈干部本人和本单位。"
    if s == CaseState.PROPOSED:
        return "调查结束，等待党委（党组）集体研究决定。"
    if s == CaseState.DECIDED:
        return "已作出决定，问责部门将书面反馈给您。"
    if s == CaseState.EXECUTED:
        if case.outcome == Outcome.REFUSED and case.appeal_deadline:
            return f"已送达不予容错的决定。如不服，可在 {case.appeal_deadline:%Y年%m月%d日} 前申诉。"
        return "已送达书面反馈。"
    if s == CaseState.APPEALED:
        return "申诉已受理，等待复核。"
    if s == CaseState.CLOSED:
        return "已办结。"
    return "已撤回。"


def _inspector_orgs(user: User) -> list[Organisation]:
    return [m.organisation for m in roles_of(user) if m.role == Role.INSPECTOR]


def _form_errors_from(exc: WorkflowError, form: Any) -> None:
    field = exc.field if exc.field in getattr(form, "fields", {}) else None
    form.add_error(field, exc.message)


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    orgs = _inspector_orgs(request.user)
    if not orgs:
        raise Http404
    org_qs = Organisation.objects.filter(pk__in=[o.pk for o in orgs])
    form = f.CaseCreateForm(request.POST or None, people=people_visible_to(request.user), orgs=org_qs,
                            initial={"accountability_org": orgs[0].pk})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.case_create(
                actor=actor_for(request.user, request), title=d["title"], subject=d["subject"],
                accountability_org=d["accountability_org"], conduct_date=d["conduct_date"],
                matter_category=d["matter_category"], summary=d["summary"],
                remedial_measures=d["remedial_measures"], loss_amount=d["loss_amount"],
                disposition=d["disposition"], submission_key=d["submission_key"] or None,
            )
        except WorkflowError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"已启动容错程序：{case.reference}")
            return redirect("case-detail", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/case_new.html", {"form": form}, status=status)


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    choices = application_choices(request.user)
    if choices is None:
        raise Http404
    form = f.ApplicationForm(request.POST or None, request.FILES or None, orgs=choices.orgs,
                             situations=choices.situations, people=choices.people,
                             initial={"accountability_org": choices.default_org.pk if choices.default_org else None})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.case_create(
                actor=actor_for(request.user, request), title=d["title"], subject=d.get("subject") or person,
                accountability_org=d["accountability_org"], conduct_date=d["conduct_date"],
                matter_category=d["matter_category"], summary=d["summary"],
                remedial_measures=d["remedial_measures"], claimed_situations=d["claimed_situations"],
                attachments=request.FILES.getlist("attachments"), submission_key=d["submission_key"] or None,
            )
        except WorkflowError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"已为{case.subject.name}提交容错申请，问责部门将受理。" if case.applicant_unit_id
                             else "您的容错申请已提交，问责部门将受理。")
            return redirect("case-detail", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/apply.html", {"form": form, "person": person,
                                                   "units": applying_units(request.user)}, status=status)


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
        row["evidence"] = by_clause.get(item["clause"], [])
        groups.setdefault(kind, []).append(row)
    return [{"kind": k, "label": label, "items": groups[k]} for k, label in KIND_ORDER if groups.get(k)]


def _action_forms(request: HttpRequest, case: Case, actions: list[str], bound: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The form of each offered action: a form the user just submitted, else drafts over defaults."""
    from django.utils import timezone

    drafts = {d.form: d.data for d in Draft.objects.filter(case=case, user=request.user)}
    today = timezone.localdate().isoformat()
    defaults = {"decide": {"meeting_date": today}, "review_appeal": {"meeting_date": today},
                "execute": {"delivered_on": today}}
    result: dict[str, Any] = {}
    for action in actions:
        if bound and action in bound:
            result[action] = bound[action]
            continue
        initial = {**defaults.get(action, {}), "revision": case.revision, **drafts.get(action, {})}
        result[action] = action_form(action, case, initial=initial)
    return result


def _case_page(request: HttpRequest, case: Case, *, bound: dict[str, Any] | None = None, status: int = 200,
               review: bool = False, tab: str | None = None) -> HttpResponse:
    user = request.user
    actions = allowed_actions(user, case)
    internal = sees_internal(user, case)
    evaluation = None
    evaluation_error = None
    findings = {x.clause_id: x for x in case.findings.select_related("recorded_by")}
    if sees_evaluation(user, case):
        try:
            evaluation = case_evaluation(case).to_dict()
        except RuleError as exc:
            evaluation_error = str(exc)
    proposals = []
    if internal:
        proposals = list(case.proposals.prefetch_related(
            Prefetch("consultations", queryset=Consultation.objects.select_related("organisation", "replied_by"))
        ).select_related("proposed_by"))
    decisions = list(case.decisions.select_related("recorded_by"))
    party_material = sees_party_material(user, case)
    evidence = list(evidence_visible(user, case).select_related("uploaded_by"))
    clause_choices = []
    if evaluation:
        clause_choices = [(t["clause"], t["clause"]) for t in evaluation.get("trace", [])]
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
        "statements": list(case.statements.select_related("author")) if party_material else [],
        "participants": list(case.participants.all()),
        "proposals": proposals,
        "decisions": decisions,
        "appeals": list(appeals_visible(user, case).select_related("filed_by")),
        "party_material": party_material,
        "recusals": list(case.recusals.select_related("member")) if party_material else [],
        "history": case_history_for(user, case)[0],
        "evidence_form": f.EvidenceForm(clauses=clause_choices),
        "statement_form": f.StatementForm(auto_id="id_statement_%s"),
        "participant_form": f.ParticipantForm(auto_id="id_participant_%s"),
        "finding_statuses": [("met", "符合"), ("not_met", "不符合"), ("unknown", "待查明")],
        "tab": tab or request.GET.get("tab", "facts"),
        "matter_label": MatterCategory(case.matter_category).label if case.matter_category else "",
    }
    template = "workflow/case_detail.html"
    if review:
        template = "workflow/review.html"
        ctx["review_action"] = next((a for a in ("decide", "review_appeal") if a in actions), None)
        ctx["latest_proposal"] = proposals[-1] if proposals else None
    return render(request, template, ctx, status=status)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, case_or_404(request.user, case_id))


@login_required
def case_review(request: HttpRequest, case_id: int) -> HttpResponse:
    """The committee's decision page: proposal, evaluation trace and opinions beside the decision form."""
    case = case_or_404(request.user, case_id)
    if not sees_internal(request.user, case):
        raise Http404
    return _case_page(request, case, review=True)


@login_required
def evaluation_fragment(request: HttpRequest, case_id: int) -> HttpResponse:
    """The live evaluation panel, re-fetched by the page after a finding is saved."""
    case = case_or_404(request.user, case_id)
    if not sees_evaluation(request.user, case):
        raise Http404
    findings = {x.clause_id: x for x in case.findings.select_related("recorded_by")}
    evaluation = case_evaluation(case).to_dict()
    evidence = list(evidence_visible(request.user, case))
    return render(request, "workflow/_evaluation.html", {
        "case": case, "evaluation": evaluation, "groups": _trace_groups(evaluation, findings, evidence),
        "can_record": can(request.user, "record_finding", case), "finding_statuses": [
            ("met", "符合"), ("not_met", "不符合"), ("unknown", "待查明")],
    })


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
            _form_errors_from(exc, form)
        else:
            services.draft_discard(case=case, user=request.user, form=action)
            messages.success(request, f"已完成：{spec.label}")
            if case_get(request.user, case.pk) is None:  # e.g. a withdrawn application the user no longer sees
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


@login_required
@require_POST
def finding_save(request: HttpRequest, case_id: int, clause_id: str) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = f.FindingForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    error = None
    if form.is_valid():
        try:
            services.finding_record(
                case_id=case.pk, actor=actor_for(request.user, request), clause_id=clause_id,
                status=form.cleaned_data["status"], reasoning=form.cleaned_data["reasoning"],
            )
        except WorkflowError as exc:
            error = exc.message
    else:
        error = "；".join(e for errs in form.errors.values() for e in errs)
    if wants_json:
        # The page's other forms carry the case revision; hand back the new one so they stay current.
        revision = Case.objects.filter(pk=case.pk).values_list("revision", flat=True).first()
        return JsonResponse({"ok": error is None, "error": error, "revision": revision},
                            status=200 if error is None else 400)
    if error:
        messages.error(request, f"{clause_id}：{error}")
    else:
        messages.success(request, f"已记录 {clause_id} 的认定。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=findings#clause-{clause_id}")


@login_required
@require_POST
def evidence_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    uploads = request.FILES.getlist("file")
    if not uploads:
        messages.error(request, "请选择要上传的文件。")
    for upload in uploads:
        try:
            services.evidence_add(case_id=case.pk, actor=actor_for(request.user, request), upload=upload,
                                  description=request.POST.get("description", ""),
                                  clause_id=request.POST.get("clause_id", ""))
        except WorkflowError as exc:
            messages.error(request, f"{upload.name}：{exc.message}")
        else:
            messages.success(request, f"已上传：{upload.name}")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=evidence")


@login_required
def evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> FileResponse:
    case = case_or_404(request.user, case_id)
    evidence = evidence_visible(request.user, case).filter(pk=evidence_id).first()
    if evidence is None:
        raise Http404
    return FileResponse(evidence.file.open("rb"), filename=evidence.original_name,
                        as_attachment=request.GET.get("download") == "1")


@login_required
@require_POST
def statement_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    try:
        services.statement_add(case_id=case.pk, actor=actor_for(request.user, request),
                               text=request.POST.get("text", ""))
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "陈述已提交。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=facts")


@login_required
@require_POST
def participant_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    try:
        services.participant_add(case_id=case.pk, actor=actor_for(request.user, request),
                                 name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                                 affiliation=request.POST.get("affiliation", ""),
                                 opinion=request.POST.get("opinion", ""))
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已记录参与调查人员。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=facts")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("notifications")
    items = Notification.objects.filter(user=request.user).select_related("case")[:100]
    return render(request, "workflow/notifications.html", {"items": items})
