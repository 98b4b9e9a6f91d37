"""Deliberation: the preliminary opinion, consultation, sending back, recusal and the decision.

Zhangjiakou 第十一条(一) and Henan 三(三)–(四): the accountability department proposes after
consulting the organisation department; the committee with management authority decides
collectively, at a meeting with more than half its members present.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import case_authority
from cases.models import Case, CaseState, Outcome
from cases.selectors import case_facts, case_findings
from rules.definitions import VERDICT_LABELS
from rules.engine import evaluate
from rules.errors import RuleError

from ..errors import InvalidInput, WrongState
from ..history import Actor
from ..models import (
    Consultation,
    ConsultationOpinion,
    Decision,
    DecisionKind,
    HistoryAction,
    OutboxKind,
    PinnedRuleSet,
    Proposal,
    Recusal,
)
from ..timeline import date_check
from .followup import failure_record
from .kernel import (
    Meeting,
    choice,
    consultations_close,
    evaluation_dict,
    limited_text,
    lock,
    members,
    notify,
    outbox,
    save,
    tasks_end,
    tasks_settle,
)


def _consultation_targets(case: Case, consult: Sequence[Organisation]) -> list[Organisation]:
    """The organisation department always; other departments the handler chose, if they may take part."""
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
    return list(targets.values())


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
    """The preliminary opinion (初步意见), with the evaluation it rests on; consultation requests go out."""
    case = lock(case_id, actor, HistoryAction.PROPOSE, expected_revision)
    outcome = choice(recommended_outcome, Outcome, "recommended_outcome", "建议结论")
    opinion = limited_text(opinion, "proposal.opinion")
    evaluation = evaluation_dict(case)
    targets = _consultation_targets(case, consult)
    round_no = case.proposals.count() + 1
    proposal = Proposal.objects.create(
        case=case, round=round_no, recommended_outcome=outcome, opinion=opinion, evaluation=evaluation,
        proposed_by=actor.user,
    )
    Consultation.objects.bulk_create([Consultation(proposal=proposal, case_id=proposal.case_id, organisation=o) for o in targets])
    case.sent_back_reason = ""
    save(case, actor, HistoryAction.PROPOSE, to_state=CaseState.PROPOSED, fields=["sent_back_reason"],
         changes={"recommended_outcome": outcome, "round": round_no, "verdict": evaluation.get("verdict"),
                  "consult": [o.name for o in targets]})
    recipients: list[User] = []
    for org in targets:
        recipients += members(org, Role.ORGDEPT if org.kind == OrgKind.ORGDEPT else Role.INSPECTOR)
    notify(recipients, case, f"会商请求：{case.subject.name}《{case.title}》", task=HistoryAction.CONSULT_REPLY)
    committee = case_authority(case.subject).committee
    notify(members(committee, Role.COMMITTEE), case, f"待研究决定：{case.subject.name}《{case.title}》",
           task=HistoryAction.DECIDE)
    return case


@transaction.atomic
def consultation_reply(*, case_id: int, actor: Actor, opinion: str, comment: str = "") -> Consultation:
    """A consulted department's opinion on the latest proposal (同意 / 不同意 with reasons)."""
    from ..permissions import scope_of

    case = lock(case_id, actor, HistoryAction.CONSULT_REPLY, None)
    opinion = choice(opinion, ConsultationOpinion, "opinion", "会商意见")
    comment = limited_text(comment, "consultation.comment", required=False)
    if opinion == ConsultationOpinion.DISAGREE and not comment:
        raise InvalidInput("不同意时须说明理由。", field="comment")
    proposal = case.proposals.order_by("-round").first()
    consultation = (
        Consultation.objects.select_for_update()
        .filter(proposal=proposal, organisation_id__in=scope_of(actor.user).consult_org_ids, replied_at__isnull=True,
                closed_at__isnull=True)
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
    save(case, actor, HistoryAction.CONSULT_REPLY,
         changes={"organisation": consultation.organisation.name, "opinion": opinion, "comment": comment})
    # The department has answered: its other officers' notices are done too.
    tasks_settle(case, done=HistoryAction.CONSULT_REPLY,
                 users=members(consultation.organisation, Role.ORGDEPT) + members(consultation.organisation,
                                                                                 Role.INSPECTOR))
    return consultation


@transaction.atomic
def consultation_withdraw(*, case_id: int, actor: Actor, organisation: int, reason: str) -> Consultation:
    """The handler withdraws a consultation request that will not be answered, with the reason on record.

    A decision needs every request of the latest proposal answered or withdrawn (张家口 第十一条(一)).
    """
    case = lock(case_id, actor, HistoryAction.CONSULT_WITHDRAW, None)
    reason = limited_text(reason, "action.reason", label="撤回会商请求的理由")
    consultation = (
        Consultation.objects.select_for_update()
        .filter(proposal__case=case, organisation_id=organisation, replied_at__isnull=True, closed_at__isnull=True)
        .select_related("organisation")
        .first()
    )
    if consultation is None:
        raise InvalidInput("该部门没有待回复的会商请求。", field="organisation")
    consultation.closed_at = timezone.now()
    consultation.closed_reason = reason
    consultation.closed_by = actor.user
    consultation.save(update_fields=["closed_at", "closed_reason", "closed_by"])
    save(case, actor, HistoryAction.CONSULT_WITHDRAW, reason=reason,
         changes={"organisation": consultation.organisation.name})
    tasks_settle(case, done=HistoryAction.CONSULT_REPLY,
                 users=members(consultation.organisation, Role.ORGDEPT) + members(consultation.organisation,
                                                                                 Role.INSPECTOR))
    return consultation


@transaction.atomic
def case_send_back(*, case_id: int, actor: Actor, reason: str, expected_revision: int | None = None) -> Case:
    """The committee returns the proposal for further investigation (退回补充调查)."""
    case = lock(case_id, actor, HistoryAction.SEND_BACK, expected_revision)
    case.sent_back_reason = limited_text(reason, "action.reason", label="退回理由")
    ended = consultations_close(case, by=actor.user, reason="党委（党组）退回补充调查，本轮会商终止。")
    save(case, actor, HistoryAction.SEND_BACK, to_state=CaseState.INVESTIGATING, fields=["sent_back_reason"],
         reason=case.sent_back_reason, changes={"consultations_ended": ended} if ended else None)
    if case.handler is not None:
        notify([case.handler], case, f"案件被退回补充调查：{case.sent_back_reason[:100]}", task=HistoryAction.PROPOSE)
    return case


@transaction.atomic
def case_recuse(*, case_id: int, actor: Actor, reason: str) -> Recusal:
    """A committee member declares a conflict (回避) and is excluded from this case's decisions."""
    case = lock(case_id, actor, HistoryAction.RECUSE, None)
    reason = limited_text(reason, "action.reason", label="回避事由")
    recusal = Recusal.objects.create(case=case, member=actor.user, reason=reason)
    save(case, actor, HistoryAction.RECUSE, reason=recusal.reason)
    # The member takes no part in this case's decisions any more: what asked them to decide is over.
    tasks_end(case, user=actor.user, tasks=(HistoryAction.DECIDE, HistoryAction.REVIEW_APPEAL),
              reason="已申请回避，不参与本案决定")
    return recusal


def decision_record(
    case: Case, actor: Actor, *, kind: str, outcome: str, meeting: Meeting, resolution: str,
    override_reason: str, appeal_result: str = "",
) -> Decision:
    """Evaluate afresh, pin the rule-set content, and store the decision with what it rested on.

    A departure from the evaluation needs a written reason; a reason without a departure is refused,
    so no document ever prints a departure that did not happen.
    """
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
    departs = outcome not in (evaluation.get("outcomes") or [])
    override_reason = limited_text(override_reason, "decision.override_reason", required=False)
    verdict = evaluation.get("verdict", "")
    if departs and not override_reason:
        raise InvalidInput(
            f"所选结论与规则评估（{VERDICT_LABELS.get(verdict, verdict)}）不一致，须填写理由。", field="override_reason"
        )
    if override_reason and not departs:
        raise InvalidInput(
            f"所选结论与规则评估（{VERDICT_LABELS.get(verdict, verdict)}）一致，无须填写不一致的理由，请清空该栏。",
            field="override_reason",
        )
    recused = [r.member.display_name() for r in case.recusals.select_related("member")]
    return Decision.objects.create(
        case=case, kind=kind, sequence=case.decisions.count() + 1, outcome=outcome,
        meeting_kind=meeting.kind, meeting_date=meeting.date, members_present=meeting.present,
        members_total=meeting.total, resolution=resolution, override_reason=override_reason,
        appeal_result=appeal_result, recused=recused, evaluation=evaluation,
        inputs={"findings": findings, "facts": facts},
        ruleset_version=str(evaluation.get("version", "")), ruleset_hash=str(evaluation.get("content_hash", "")),
        engine_version=str(evaluation.get("engine_version", "")), recorded_by=actor.user,
    )


@transaction.atomic
def case_decide(
    *,
    case_id: int,
    actor: Actor,
    outcome: str,
    meeting_kind: str,
    meeting_date: object,
    members_present: object,
    members_total: object,
    resolution: str,
    override_reason: str = "",
    expected_revision: int | None = None,
) -> Decision:
    """The party committee's collective decision; one per case, safe under concurrency."""
    case = lock(case_id, actor, HistoryAction.DECIDE, expected_revision)
    outcome = choice(outcome, Outcome, "outcome", "结论")
    meeting = Meeting.parse(meeting_kind=meeting_kind, meeting_date=meeting_date,
                            members_present=members_present, members_total=members_total)
    date_check(case, meeting.date, stage="decision", field="meeting_date")
    resolution = limited_text(resolution, "decision.resolution")
    decision = decision_record(case, actor, kind=DecisionKind.DECISION, outcome=outcome, meeting=meeting,
                               resolution=resolution, override_reason=override_reason)
    case.outcome = outcome
    fields = ["outcome"]
    if case.decided_at is None:
        # The first decision: when it was recorded, and its date, which is the meeting's (register and documents).
        case.decided_at = decision.decided_at
        case.decision_date = meeting.date
        fields += ["decided_at", "decision_date"]
    save(case, actor, HistoryAction.DECIDE, to_state=CaseState.DECIDED, fields=fields, reason=decision.override_reason,
         changes={"outcome": outcome, "meeting_date": meeting.date, "attendance": meeting.attendance,
                  "verdict": decision.evaluation.get("verdict"), "override": bool(decision.override_reason)})
    outbox(case, OutboxKind.CASE_DECIDED, {"decision": decision.pk})
    failure_record(case, decision, actor)  # 应容未容 (张家口 第十一条(四)), if the decision says so
    if case.handler is not None:
        notify([case.handler], case, f"党委已作出决定（{case.get_outcome_display()}），请执行并书面反馈",
               task=HistoryAction.EXECUTE)
    return decision
