"""Every change of state in the procedure, one function per action.

Each action locks the case row, re-checks state and authority under the lock, changes only what
changes, writes the hash-chained history entry and queues side effects after commit. Pages, the
API, the admin, Celery tasks and management commands all come through here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Person, Role, User
from accounts.selectors import (
    applying_unit_for,
    applying_units,
    case_authority,
    members_of,
    people_visible_to,
    person_of,
    roles_of,
)
from cases.models import (
    Case,
    CaseState,
    Disposition,
    Evidence,
    Finding,
    FindingStatus,
    MatterCategory,
    Origin,
    Outcome,
    Participant,
    ParticipantKind,
    Statement,
)
from cases.selectors import case_evaluation, case_facts, case_findings
from rules.engine import evaluate
from rules.errors import RuleError
from rules.loader import registry

from .deadlines import appeal_window_days, deadline_for
from .errors import InvalidInput, NotAllowed, StaleRevision, WrongState
from .history import Actor, history_append
from .models import (
    Appeal,
    AppealResult,
    Consultation,
    ConsultationOpinion,
    Decision,
    DecisionKind,
    Draft,
    MeetingKind,
    Notification,
    OutboxEvent,
    PinnedRuleSet,
    Proposal,
    Recusal,
)
from .permissions import action_check

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_UPLOAD_TYPES = {
    ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".doc", ".docx", ".xls", ".xlsx", ".txt", ".ofd", ".zip",
}
OUTBOX_DISPATCH_TASK = "reports.tasks.outbox_dispatch"


# --- helpers -------------------------------------------------------------------------------------

def _require_text(value: str | None, field: str, label: str, *, max_length: int = 20000) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"请填写{label}。", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label}不能超过 {max_length} 字。", field=field)
    return text


def _choice(value: str | None, choices: type, field: str, label: str) -> str:
    if value not in choices.values:
        allowed = "、".join(f"{v}（{lbl}）" for v, lbl in choices.choices)
        raise InvalidInput(f"{label}无效：{value!r}，应为 {allowed}。", field=field)
    return str(value)


def _date(value: Any, field: str, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(f"{label}格式应为 YYYY-MM-DD。", field=field) from None


def _lock(case_id: int, actor: Actor, action: str, expected_revision: int | None) -> Case:
    """Lock the case row and re-check the guard under the lock."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("subject__unit", "accountability_org")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise WrongState("案件不存在。")
    if expected_revision is not None and case.revision != expected_revision:
        raise StaleRevision("此案件已被他人更新，请查看最新状态后重试。")
    if actor.user is None:
        raise NotAllowed("缺少操作人。")
    action_check(actor.user, action, case)
    return case


def _save(
    case: Case,
    actor: Actor,
    action: str,
    *,
    to_state: str | None = None,
    fields: Iterable[str] = (),
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> Case:
    from_state = case.state
    update = set(fields) | {"revision", "updated_at"}
    if to_state is not None and to_state != case.state:
        case.state = to_state
        case.deadline = deadline_for(to_state)
        update |= {"state", "deadline"}
    case.revision += 1
    case.save(update_fields=sorted(update))
    history_append(
        case_id=case.pk,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=case.state,
        reason=reason,
        changes=changes,
    )
    return case


def _notify(users: Iterable[User], case: Case, text: str) -> None:
    Notification.objects.bulk_create(
        [Notification(user=u, case=case, text=text[:300]) for u in {u.pk: u for u in users}.values()]
    )


def _members(org: Organisation | None, role: str) -> list[User]:
    return list(members_of(org, role))


def _parties(case: Case) -> list[User]:
    """Who receives the outcome: the cadre (or the unit held accountable), and the unit that applied."""
    users = [case.subject.user] if case.subject.user is not None else []
    if case.subject.is_unit:  # a unit held accountable: its officers act for it
        users += _members(case.subject.unit, Role.UNIT)
    if case.applicant_unit_id:  # the unit that applied: its current officers, not only the one who filed
        users += _members(case.applicant_unit, Role.UNIT)
    return users


def _outbox(case: Case, kind: str, payload: dict[str, Any] | None = None) -> None:
    """Record what happened in this transaction; hand it to the dispatcher once committed."""
    OutboxEvent.objects.create(case=case, kind=kind, payload=payload or {})
    transaction.on_commit(outbox_kick)


def outbox_kick() -> None:
    """Ask the dispatcher to run now; if the broker is down, beat picks the rows up later."""
    from celery import current_app

    task = current_app.tasks.get(OUTBOX_DISPATCH_TASK)
    if task is None:
        return
    try:
        task.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the row stays pending
        logger.warning("outbox dispatch not queued (%s); beat will retry", exc)


def _evaluation_dict(case: Case) -> dict[str, Any]:
    try:
        return case_evaluation(case).to_dict()
    except RuleError as exc:
        raise InvalidInput(str(exc), field="ruleset") from None


# --- start ---------------------------------------------------------------------------------------

def _resolve_ruleset(ruleset: str | None, org: Organisation, conduct_date: dt.date) -> str:
    ruleset_id = (ruleset or org.jurisdiction or "").strip()
    try:
        registry().family(ruleset_id)
    except RuleError as exc:
        raise InvalidInput(str(exc), field="ruleset") from None
    try:
        version = registry().version_for(ruleset_id, conduct_date)
    except RuleError as exc:
        raise InvalidInput(str(exc), field="conduct_date") from None
    # A department applies its own jurisdiction's rules, or a department list built on them (1+X).
    if ruleset_id != org.jurisdiction and not (version.extends and version.extends[0] == org.jurisdiction):
        raise InvalidInput(f"{org.name}适用的规则为 {org.jurisdiction}，不能适用 {ruleset_id}。", field="ruleset")
    return ruleset_id


@transaction.atomic
def case_create(
    *,
    actor: Actor,
    title: str,
    subject: Person | None,
    accountability_org: Organisation | None,
    conduct_date: Any,
    matter_category: str,
    summary: str,
    ruleset: str | None = None,
    remedial_measures: str = "",
    claimed_situations: Sequence[str] = (),
    loss_amount: Decimal | None = None,
    disposition: str = "",
    attachments: Sequence[UploadedFile] = (),
    submission_key: str | None = None,
) -> Case:
    """Open a case: an inspector's own start, or a cadre's written application (书面申请).

    A repeated submission with the same ``submission_key`` returns the case already created.
    """
    user = actor.user
    if user is None:
        raise NotAllowed("缺少操作人。")
    if submission_key:
        # Keys are per user: the same form token from two users never collides.
        submission_key = hashlib.sha256(f"{user.pk}:{submission_key}".encode()).hexdigest()
        existing = Case.objects.filter(submission_key=submission_key, created_by=user).first()
        if existing is not None:
            return existing
    for upload in attachments:
        _upload_check(upload)
    title = _require_text(title, "title", "事项名称", max_length=200)
    summary = _require_text(summary, "summary", "基本情况")
    matter_category = _choice(matter_category, MatterCategory, "matter_category", "事项类别")
    conduct = _date(conduct_date, "conduct_date", "行为发生日期")
    if conduct > timezone.localdate():
        raise InvalidInput("行为发生日期不能晚于今天。", field="conduct_date")
    if disposition:
        disposition = _choice(disposition, Disposition, "disposition", "处置形态")
    if loss_amount is not None and loss_amount < 0:
        raise InvalidInput("损失金额不能为负数。", field="loss_amount")
    if accountability_org is None:
        raise InvalidInput("请选择问责部门。", field="accountability_org")

    own_person = person_of(user)
    applicant_unit = None
    inspector_orgs = {m.organisation_id for m in roles_of(user) if m.role == Role.INSPECTOR}
    if accountability_org.pk in inspector_orgs:
        origin = Origin.ACCOUNTABILITY
        if subject is None:
            raise InvalidInput("请选择当事干部。", field="subject")
        if not people_visible_to(user).filter(pk=subject.pk).exists():
            raise InvalidInput("该干部不在本部门的管理权限范围内。", field="subject")
        handler = user
    elif applying_units(user) and subject is not None and (own_person is None or subject.pk != own_person.pk):
        # The cadre's unit applies in writing on their behalf (被问责的干部、单位提出书面申请).
        applicant_unit = applying_unit_for(user, subject)
        if applicant_unit is None:
            raise InvalidInput(f"{subject.name}不在本单位，不能代为申请。", field="subject")
        origin = Origin.APPLICATION
        handler = None
    elif inspector_orgs and (own_person is None or (subject is not None and subject.pk != own_person.pk)):
        raise InvalidInput("您不是该问责部门的人员，不能以其名义启动容错程序。", field="accountability_org")
    elif own_person is not None:
        # A cadre's create is an application for themselves.
        origin = Origin.APPLICATION
        subject = own_person
        handler = None
    elif applying_units(user):
        raise InvalidInput("请选择为哪位干部申请。", field="subject")
    else:
        raise NotAllowed("只有问责部门人员、干部本人或其所在单位可以启动容错程序。")

    authority = case_authority(subject)
    if not authority.may_act(accountability_org) or accountability_org.kind not in (
        OrgKind.DISCIPLINE, OrgKind.FUNCTIONAL, OrgKind.ORGDEPT
    ):
        raise InvalidInput(
            f"{accountability_org.name}不是对{subject.name}具有问责职责的部门。", field="accountability_org"
        )
    ruleset_id = _resolve_ruleset(ruleset, accountability_org, conduct)
    version = registry().version_for(ruleset_id, conduct)
    situation_ids = {c.id for c in version.situations()}
    claimed = [str(c) for c in claimed_situations]
    unknown = [c for c in claimed if c not in situation_ids]
    if unknown:
        raise InvalidInput(f"所选容错情形不属于该规则：{'、'.join(unknown)}", field="claimed_situations")

    try:
        with transaction.atomic():
            case = Case.objects.create(
                title=title,
                subject=subject,
                accountability_org=accountability_org,
                handler=handler,
                ruleset=ruleset_id,
                conduct_date=conduct,
                matter_category=matter_category,
                summary=summary,
                remedial_measures=(remedial_measures or "").strip(),
                claimed_situations=claimed,
                loss_amount=loss_amount,
                disposition=disposition,
                origin=origin,
                applicant=user if origin == Origin.APPLICATION else None,
                applicant_unit=applicant_unit,
                created_by=user,
                submission_key=submission_key or None,
                deadline=deadline_for(CaseState.STARTED),
            )
    except IntegrityError:
        existing = Case.objects.filter(submission_key=submission_key, created_by=user).first() if submission_key else None
        if existing is None:
            raise
        return existing
    history_append(
        case_id=case.pk,
        actor=actor,
        action="apply" if origin == Origin.APPLICATION else "start",
        to_state=case.state,
        changes={"title": title, "subject": subject.name, "ruleset": ruleset_id, "origin": origin,
                 **({"applicant_unit": applicant_unit.name} if applicant_unit else {})},
    )
    for upload in attachments:
        _evidence_store(case=case, actor=actor, upload=upload, description="申请附件")
    if origin == Origin.APPLICATION:
        by = f"（{applicant_unit.name}代为申请）" if applicant_unit else ""
        _notify(_members(accountability_org, Role.INSPECTOR), case, f"收到容错申请：{subject.name}《{title}》{by}")
        if applicant_unit is not None and subject.user_id:
            _notify([subject.user], case, f"{applicant_unit.name}已为您提交容错申请《{title}》")
        _outbox(case, "application_submitted")
    return case


# --- investigate ---------------------------------------------------------------------------------

@transaction.atomic
def case_investigate(*, case_id: int, actor: Actor, expected_revision: int | None = None) -> Case:
    case = _lock(case_id, actor, "investigate", expected_revision)
    fields = []
    if case.handler_id is None:
        case.handler = actor.user
        fields.append("handler")
    return _save(case, actor, "investigate", to_state=CaseState.INVESTIGATING, fields=fields)


@transaction.atomic
def finding_record(
    *,
    case_id: int,
    actor: Actor,
    clause_id: str,
    status: str,
    reasoning: str = "",
    expected_revision: int | None = None,
) -> Finding:
    """Record or change the finding on one clause (met / not met / unknown) with its reasoning."""
    case = _lock(case_id, actor, "record_finding", expected_revision)
    status = _choice(status, FindingStatus, "status", "认定")
    reasoning = (reasoning or "").strip()
    version = registry().version_for(case.ruleset, case.conduct_date)
    if not version.has_clause(clause_id):
        raise InvalidInput(f"条款 {clause_id} 不属于规则 {case.ruleset}（{version.label}）。", field="clause_id")
    if status != FindingStatus.UNKNOWN and not reasoning:
        raise InvalidInput("认定为“符合”或“不符合”时须写明理由。", field="reasoning")
    existing = Finding.objects.filter(case=case, clause_id=clause_id).first()
    before = {"status": existing.status, "reasoning": existing.reasoning} if existing else None
    if existing and existing.status == status and existing.reasoning == reasoning:
        return existing
    finding, _ = Finding.objects.update_or_create(
        case=case, clause_id=clause_id,
        defaults={"status": status, "reasoning": reasoning, "recorded_by": actor.user},
    )
    _save(case, actor, "record_finding", changes={"clause": clause_id, "before": before,
                                                   "after": {"status": status, "reasoning": reasoning}})
    return finding


def _upload_check(upload: UploadedFile) -> tuple[str, str]:
    """Validate an upload before anything is written; returns its safe name and extension."""
    import os

    base = os.path.basename(upload.name or "")
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    name = stem[: 200 - len(ext)] + ext
    if not base:
        raise InvalidInput("请选择要上传的文件。", field="file")
    if ext not in ALLOWED_UPLOAD_TYPES:
        raise InvalidInput(f"不支持的文件类型 {ext or '（无扩展名）'}：{base[:60]}", field="file")
    if upload.size is None or upload.size == 0:
        raise InvalidInput(f"文件为空：{base[:60]}", field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"单个文件不能超过 20 MB：{base[:60]}", field="file")
    return name, ext


def _evidence_store(*, case: Case, actor: Actor, upload: UploadedFile, description: str, clause_id: str = "") -> Evidence:
    name, ext = _upload_check(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(
        case=case, original_name=name, description=(description or "").strip()[:500], clause_id=clause_id,
        content_type=getattr(upload, "content_type", "") or "", size=upload.size, sha256=digest.hexdigest(),
        uploaded_by=actor.user,
    )
    evidence.file.save(f"{digest.hexdigest()[:16]}{ext}", upload, save=False)
    evidence.save()
    return evidence


@transaction.atomic
def evidence_add(
    *, case_id: int, actor: Actor, upload: UploadedFile | None, description: str = "", clause_id: str = ""
) -> Evidence:
    case = _lock(case_id, actor, "add_evidence", None)
    if upload is None:
        raise InvalidInput("请选择要上传的文件。", field="file")
    if clause_id:
        version = registry().version_for(case.ruleset, case.conduct_date)
        if not version.has_clause(clause_id):
            raise InvalidInput(f"条款 {clause_id} 不属于该规则。", field="clause_id")
    evidence = _evidence_store(case=case, actor=actor, upload=upload, description=description, clause_id=clause_id)
    _save(case, actor, "add_evidence", changes={"file": evidence.original_name, "sha256": evidence.sha256})
    return evidence


@transaction.atomic
def statement_add(*, case_id: int, actor: Actor, text: str) -> Statement:
    case = _lock(case_id, actor, "add_statement", None)
    statement = Statement.objects.create(case=case, author=actor.user, text=_require_text(text, "text", "陈述内容"))
    _save(case, actor, "add_statement", changes={"length": len(statement.text)})
    if case.handler is not None:
        _notify([case.handler], case, f"{case.subject.name}提交了陈述")
    return statement


@transaction.atomic
def participant_add(
    *, case_id: int, actor: Actor, name: str, kind: str, affiliation: str = "", opinion: str = ""
) -> Participant:
    case = _lock(case_id, actor, "add_participant", None)
    participant = Participant.objects.create(
        case=case,
        name=_require_text(name, "name", "姓名", max_length=50),
        kind=_choice(kind, ParticipantKind, "kind", "身份"),
        affiliation=(affiliation or "").strip()[:100],
        opinion=(opinion or "").strip(),
        added_by=actor.user,
    )
    _save(case, actor, "add_participant", changes={"name": participant.name, "kind": participant.kind})
    return participant


# --- propose and consult -------------------------------------------------------------------------

@transaction.atomic
def case_propose(
    *,
    case_id: int,
    actor: Actor,
    recommended_outcome: str,
    opinion: str,
    consult: Sequence[Organisation] = (),
    expected_revision: int | None = None,
) -> Case:
    """The preliminary opinion; consultation goes to the organisation department and chosen departments."""
    case = _lock(case_id, actor, "propose", expected_revision)
    outcome = _choice(recommended_outcome, Outcome, "recommended_outcome", "建议结论")
    opinion = _require_text(opinion, "opinion", "初步意见")
    evaluation = _evaluation_dict(case)
    authority = case_authority(case.subject)
    targets: dict[int, Organisation] = {}
    if authority.orgdept is not None:
        targets[authority.orgdept.pk] = authority.orgdept
    for org in consult:
        if org.pk == case.accountability_org_id:
            continue
        if not authority.may_act(org) or org.kind not in (OrgKind.ORGDEPT, OrgKind.FUNCTIONAL, OrgKind.DISCIPLINE):
            raise InvalidInput(f"{org.name}不能参与本案会商。", field="consult")
        targets[org.pk] = org
    round_no = case.proposals.count() + 1
    proposal = Proposal.objects.create(
        case=case, round=round_no, recommended_outcome=outcome, opinion=opinion, evaluation=evaluation,
        proposed_by=actor.user,
    )
    Consultation.objects.bulk_create([Consultation(proposal=proposal, organisation=o) for o in targets.values()])
    case.sent_back_reason = ""
    _save(
        case, actor, "propose", to_state=CaseState.PROPOSED, fields=["sent_back_reason"],
        changes={"recommended_outcome": outcome, "round": round_no, "verdict": evaluation.get("verdict"),
                 "consult": [o.name for o in targets.values()]},
    )
    recipients: list[User] = []
    for org in targets.values():
        recipients += _members(org, Role.ORGDEPT if org.kind == OrgKind.ORGDEPT else Role.INSPECTOR)
    _notify(recipients, case, f"会商请求：{case.subject.name}《{case.title}》")
    _notify(_members(authority.committee, Role.COMMITTEE), case, f"待研究决定：{case.subject.name}《{case.title}》")
    return case


@transaction.atomic
def consultation_reply(*, case_id: int, actor: Actor, opinion: str, comment: str = "") -> Consultation:
    case = _lock(case_id, actor, "consult_reply", None)
    opinion = _choice(opinion, ConsultationOpinion, "opinion", "会商意见")
    comment = (comment or "").strip()
    if opinion == ConsultationOpinion.DISAGREE and not comment:
        raise InvalidInput("不同意时须说明理由。", field="comment")
    from .permissions import scope_of

    proposal = case.proposals.order_by("-round").first()
    consultation = (
        Consultation.objects.select_for_update()
        .filter(proposal=proposal, organisation_id__in=scope_of(actor.user).consult_org_ids, replied_at__isnull=True)
        .select_related("organisation")
        .first()
    )
    if consultation is None:
        raise WrongState("本部门的会商意见已回复。")
    consultation.opinion = opinion
    consultation.comment = comment
    consultation.replied_by = actor.user
    consultation.replied_at = timezone.now()
    consultation.save(update_fields=["opinion", "comment", "replied_by", "replied_at"])
    _save(case, actor, "consult_reply",
          changes={"organisation": consultation.organisation.name, "opinion": opinion, "comment": comment})
    return consultation


@transaction.atomic
def case_send_back(*, case_id: int, actor: Actor, reason: str, expected_revision: int | None = None) -> Case:
    case = _lock(case_id, actor, "send_back", expected_revision)
    case.sent_back_reason = _require_text(reason, "reason", "退回理由")
    _save(case, actor, "send_back", to_state=CaseState.INVESTIGATING, fields=["sent_back_reason"],
          reason=case.sent_back_reason)
    if case.handler is not None:
        _notify([case.handler], case, f"案件被退回补充调查：{case.sent_back_reason[:100]}")
    return case


@transaction.atomic
def case_recuse(*, case_id: int, actor: Actor, reason: str) -> Recusal:
    case = _lock(case_id, actor, "recuse", None)
    recusal = Recusal.objects.create(case=case, member=actor.user, reason=_require_text(reason, "reason", "回避事由"))
    _save(case, actor, "recuse", reason=recusal.reason)
    return recusal


# --- decide --------------------------------------------------------------------------------------

def _meeting(meeting_kind: str, meeting_date: Any, members_present: Any, members_total: Any) -> tuple:
    kind = _choice(meeting_kind, MeetingKind, "meeting_kind", "会议形式")
    date = _date(meeting_date, "meeting_date", "会议日期")
    if date > timezone.localdate():
        raise InvalidInput("会议日期不能晚于今天。", field="meeting_date")
    try:
        present, total = int(members_present), int(members_total)
    except (TypeError, ValueError):
        raise InvalidInput("到会人数和应到人数须为整数。", field="members_present") from None
    if total < 1:
        raise InvalidInput("应到人数须大于 0。", field="members_total")
    if present < 0 or present > total:
        raise InvalidInput("到会人数不能超过应到人数。", field="members_present")
    if present * 2 <= total:
        raise InvalidInput(
            f"到会 {present} 人，未超过应到 {total} 人的半数，不能集体研究作出决定。", field="members_present"
        )
    return kind, date, present, total


def _decision_record(
    case: Case, actor: Actor, *, kind: str, outcome: str, meeting: tuple, resolution: str, override_reason: str,
    appeal_result: str = "",
) -> Decision:
    findings, facts = case_findings(case), case_facts(case)
    try:
        result = evaluate(case.ruleset, findings, case.conduct_date, facts=facts, decision_date=timezone.localdate())
    except RuleError as exc:
        raise InvalidInput(str(exc), field="ruleset") from None
    evaluation = result.to_dict()
    PinnedRuleSet.objects.get_or_create(
        content_hash=result.version.content_hash,
        defaults={"ruleset": result.version.id, "version": result.version.version,
                  "snapshot": result.version.snapshot()},
    )
    open_outcomes = evaluation.get("outcomes") or []
    override_reason = (override_reason or "").strip()
    if outcome not in open_outcomes and not override_reason:
        verdict_label = {"tolerable": "予以容错", "not_tolerable": "不予容错", "undetermined": "尚无结论"}.get(
            evaluation.get("verdict", ""), evaluation.get("verdict", "")
        )
        raise InvalidInput(
            f"所选结论与规则评估（{verdict_label}）不一致，须填写理由。", field="override_reason"
        )
    recused = [r.member.display_name() for r in case.recusals.select_related("member")]
    decision = Decision.objects.create(
        case=case, kind=kind, sequence=case.decisions.count() + 1, outcome=outcome,
        meeting_kind=meeting[0], meeting_date=meeting[1], members_present=meeting[2], members_total=meeting[3],
        resolution=resolution, override_reason=override_reason if outcome not in open_outcomes else override_reason,
        appeal_result=appeal_result, recused=recused, evaluation=evaluation,
        inputs={"findings": findings, "facts": facts},
        ruleset_version=str(evaluation.get("version", "")), ruleset_hash=str(evaluation.get("content_hash", "")),
        engine_version=str(evaluation.get("engine_version", "")), recorded_by=actor.user,
    )
    if kind == DecisionKind.DECISION and case.decided_at is None:
        # The register of filings (备案登记) is ordered and filtered by the first decision's time.
        case.decided_at = decision.decided_at
        Case.objects.filter(pk=case.pk).update(decided_at=decision.decided_at)
    return decision


@transaction.atomic
def case_decide(
    *,
    case_id: int,
    actor: Actor,
    outcome: str,
    meeting_kind: str,
    meeting_date: Any,
    members_present: Any,
    members_total: Any,
    resolution: str,
    override_reason: str = "",
    expected_revision: int | None = None,
) -> Decision:
    """The party committee's collective decision; one per case, safe under concurrency."""
    case = _lock(case_id, actor, "decide", expected_revision)
    outcome = _choice(outcome, Outcome, "outcome", "结论")
    meeting = _meeting(meeting_kind, meeting_date, members_present, members_total)
    resolution = _require_text(resolution, "resolution", "决定内容")
    decision = _decision_record(
        case, actor, kind=DecisionKind.DECISION, outcome=outcome, meeting=meeting, resolution=resolution,
        override_reason=override_reason,
    )
    case.outcome = outcome
    _save(case, actor, "decide", to_state=CaseState.DECIDED, fields=["outcome"], reason=decision.override_reason,
          changes={"outcome": outcome, "meeting_date": meeting[1], "attendance": f"{meeting[2]}/{meeting[3]}",
                   "verdict": decision.evaluation.get("verdict"), "override": bool(decision.override_reason)})
    _outbox(case, "case_decided", {"decision": decision.pk})
    if case.handler is not None:
        _notify([case.handler], case, f"党委已作出决定（{case.get_outcome_display()}），请执行并书面反馈")
    return decision


# --- execute, appeal, close ----------------------------------------------------------------------

@transaction.atomic
def case_execute(*, case_id: int, actor: Actor, delivered_on: Any, expected_revision: int | None = None) -> Case:
    """Carry out the decision and record delivery of the written feedback (书面反馈)."""
    case = _lock(case_id, actor, "execute", expected_revision)
    delivered = _date(delivered_on, "delivered_on", "送达日期")
    decided_at = case.decisions.order_by("-sequence").values_list("decided_at", flat=True).first()
    if delivered > timezone.localdate():
        raise InvalidInput("送达日期不能晚于今天。", field="delivered_on")
    if decided_at is not None and delivered < timezone.localdate(decided_at):
        raise InvalidInput("送达日期不能早于决定日期。", field="delivered_on")
    case.delivered_on = delivered
    case.appeal_deadline = delivered + dt.timedelta(days=appeal_window_days())
    _save(case, actor, "execute", to_state=CaseState.EXECUTED, fields=["delivered_on", "appeal_deadline"],
          changes={"delivered_on": delivered, "appeal_deadline": case.appeal_deadline})
    case.deadline = case.appeal_deadline if case.outcome == Outcome.REFUSED else None
    case.save(update_fields=["deadline"])
    text = f"容错认定结论已送达：{case.get_outcome_display()}"
    if case.outcome == Outcome.REFUSED:
        text += f"；如不服，可在 {case.appeal_deadline:%Y年%m月%d日} 前提出申诉"
    _notify(_parties(case), case, text)
    return case


@transaction.atomic
def case_appeal(
    *, case_id: int, actor: Actor, reasons: str, attachments: Sequence[UploadedFile] = ()
) -> Appeal:
    case = _lock(case_id, actor, "appeal", None)
    for upload in attachments:
        _upload_check(upload)
    appeal = Appeal.objects.create(case=case, reasons=_require_text(reasons, "reasons", "申诉理由"), filed_by=actor.user)
    for upload in attachments:
        _evidence_store(case=case, actor=actor, upload=upload, description="申诉附件")
    _save(case, actor, "appeal", to_state=CaseState.APPEALED, reason=appeal.reasons)
    _notify(_members(case_authority(case.subject).committee, Role.COMMITTEE), case,
            f"收到申诉：{case.subject.name}《{case.title}》")
    return appeal


@transaction.atomic
def appeal_review(
    *,
    case_id: int,
    actor: Actor,
    result: str,
    resolution: str,
    meeting_kind: str,
    meeting_date: Any,
    members_present: Any,
    members_total: Any,
    outcome: str | None = None,
    override_reason: str = "",
    expected_revision: int | None = None,
) -> Decision:
    """Re-review (复核) without the original handler: uphold (closed) or overturn (decided anew)."""
    case = _lock(case_id, actor, "review_appeal", expected_revision)
    result = _choice(result, AppealResult, "result", "复核结果")
    resolution = _require_text(resolution, "resolution", "复核决定内容")
    meeting = _meeting(meeting_kind, meeting_date, members_present, members_total)
    if result == AppealResult.OVERTURNED:
        new_outcome = _choice(outcome, Outcome, "outcome", "新的结论")
        if new_outcome == Outcome.REFUSED:
            raise InvalidInput("撤销不予容错的决定时，须作出免责、从轻或减轻的结论。", field="outcome")
    else:
        new_outcome = Outcome.REFUSED
    appeal = case.appeals.filter(result="").order_by("-filed_at").first()
    decision = _decision_record(
        case, actor, kind=DecisionKind.APPEAL_REVIEW, outcome=new_outcome, meeting=meeting, resolution=resolution,
        override_reason=override_reason, appeal_result=result,
    )
    if appeal is not None:
        appeal.result = result
        appeal.review_decision = decision
        appeal.save(update_fields=["result", "review_decision"])
    case.outcome = new_outcome
    target = CaseState.DECIDED if result == AppealResult.OVERTURNED else CaseState.CLOSED
    _save(case, actor, "review_appeal", to_state=target, fields=["outcome"], reason=resolution,
          changes={"result": result, "outcome": new_outcome})
    _outbox(case, "appeal_reviewed", {"decision": decision.pk})
    _notify(_parties(case), case, f"申诉复核结果：{AppealResult(result).label}")
    return decision


@transaction.atomic
def case_close(*, case_id: int, actor: Actor) -> Case:
    case = _lock(case_id, actor, "close", None)
    if case.appeal_deadline and timezone.localdate() <= case.appeal_deadline:
        raise WrongState("申诉期限尚未届满。")
    return _save(case, actor, "close", to_state=CaseState.CLOSED, reason="申诉期限届满")


def cases_close_expired(*, today: dt.date | None = None) -> int:
    """Close executed cases whose appeal window has passed (run by Celery beat)."""
    today = today or timezone.localdate()
    system = Actor(user=None, role="system", via="task")
    closed = 0
    ids = list(Case.objects.filter(state=CaseState.EXECUTED, appeal_deadline__lt=today).values_list("pk", flat=True))
    for case_id in ids:
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id, state=CaseState.EXECUTED).first()
            if case is None or not case.appeal_deadline or case.appeal_deadline >= today:
                continue
            _save(case, system, "close", to_state=CaseState.CLOSED, reason="申诉期限届满，自动办结")
            closed += 1
    return closed


# --- handlers, withdrawal, drafts ----------------------------------------------------------------

@transaction.atomic
def case_reassign(
    *, case_id: int, actor: Actor, handler: User | None, reason: str, expected_revision: int | None = None
) -> Case:
    case = _lock(case_id, actor, "reassign", expected_revision)
    reason = _require_text(reason, "reason", "转交理由")
    if handler is None or not handler.is_active or not handler.memberships.filter(
        organisation_id=case.accountability_org_id, role=Role.INSPECTOR
    ).exists():
        raise InvalidInput("新承办人须为本问责部门的纪检监察干部。", field="handler")
    if handler.pk == case.handler_id:
        raise InvalidInput("新承办人与当前承办人相同。", field="handler")
    before = case.handler.display_name() if case.handler else ""
    case.handler = handler
    _save(case, actor, "reassign", fields=["handler"], reason=reason,
          changes={"handler": {"before": before, "after": handler.display_name()}})
    _notify([handler], case, f"{actor.name}将案件转交给您：{reason[:100]}")
    return case


@transaction.atomic
def case_withdraw(*, case_id: int, actor: Actor, reason: str, expected_revision: int | None = None) -> Case:
    case = _lock(case_id, actor, "withdraw", expected_revision)
    reason = _require_text(reason, "reason", "撤回理由")
    return _save(case, actor, "withdraw", to_state=CaseState.WITHDRAWN, reason=reason)


DRAFT_FORMS = {"propose", "decide", "review_appeal", "appeal", "send_back", "finding", "statement"}


@transaction.atomic
def draft_save(*, case: Case, user: User, form: str, data: dict[str, Any]) -> Draft:
    """Keep a half-filled form without moving the case."""
    if form not in DRAFT_FORMS:
        raise InvalidInput(f"未知表单：{form}", field="form")
    clean = {
        str(k)[:60]: [str(x)[:20000] for x in v] if isinstance(v, list | tuple) else str(v)[:20000]
        for k, v in data.items() if k not in {"csrfmiddlewaretoken", "revision"}
    }
    draft, _ = Draft.objects.update_or_create(case=case, user=user, form=form, defaults={"data": clean})
    return draft


def draft_discard(*, case: Case, user: User, form: str) -> None:
    Draft.objects.filter(case=case, user=user, form=form).delete()


def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def case_admin_change(*, case: Case, actor: Actor, changed: dict[str, Any]) -> None:
    """An edit made in the Django admin still writes history."""
    with transaction.atomic():
        case.revision += 1
        case.save()
        history_append(case_id=case.pk, actor=actor, action="admin_edit", from_state=case.state,
                       to_state=case.state, changes=changed)
