"""After the decision, and the ways a case leaves the procedure: execution and written feedback,
appeal and its review, expiry of the appeal window, withdrawal and reassignment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import case_authority
from cases.models import AccountabilityMeasure, Case, CaseState, Outcome

from ..deadlines import appeal_window_days
from ..errors import InvalidInput
from ..history import Actor
from ..models import Appeal, AppealResult, Decision, DecisionKind, HistoryAction, Notification, OutboxKind
from ..timeline import cn_date, date_check
from .deliberation import decision_record
from .followup import failure_record, visits_reassign, visits_schedule
from .kernel import (
    Meeting,
    as_date,
    choice,
    consultations_close,
    limited_text,
    lock,
    members,
    notify,
    outbox,
    parties,
    save,
)
from .uploads import evidence_store, uploads_check


@transaction.atomic
def case_execute(*, case_id: int, actor: Actor, delivered_on: Any, expected_revision: int | None = None) -> Case:
    """Carry out the decision and record delivery of the written feedback (书面反馈).

    A refusal opens the appeal window, which becomes the case's deadline; otherwise nothing is due.
    """
    case = lock(case_id, actor, HistoryAction.EXECUTE, expected_revision)
    delivered = as_date(delivered_on, "delivered_on", "送达日期")
    date_check(case, delivered, stage="delivery", field="delivered_on")
    # After an overturned appeal the feedback is delivered again: not before the review meeting either.
    latest_meeting = case.decisions.order_by("-sequence").values_list("meeting_date", flat=True).first()
    if latest_meeting is not None and delivered < latest_meeting:
        raise InvalidInput(f"送达日期（{cn_date(delivered)}）不能早于决定的会议日期（{cn_date(latest_meeting)}）。",
                           field="delivered_on")
    case.delivered_on = delivered
    case.appeal_deadline = delivered + dt.timedelta(days=appeal_window_days())
    save(case, actor, HistoryAction.EXECUTE, to_state=CaseState.EXECUTED, fields=["delivered_on", "appeal_deadline"],
         deadline=case.appeal_deadline if case.outcome == Outcome.REFUSED else None,
         changes={"delivered_on": delivered, "appeal_deadline": case.appeal_deadline})
    visits_schedule(case, actor)  # 回访 after delivery, tolerated or not
    text = f"容错认定结论已送达：{case.get_outcome_display()}"
    if case.outcome == Outcome.REFUSED:
        text += f"；如不服，可在 {cn_date(case.appeal_deadline)} 前提出申诉"
    notify(parties(case), case, text)
    return case


@transaction.atomic
def case_appeal(*, case_id: int, actor: Actor, reasons: str, attachments: Sequence[UploadedFile] = ()) -> Appeal:
    """A party appeals a refusal (申诉) within the window; the committee is told."""
    case = lock(case_id, actor, HistoryAction.APPEAL, None)
    uploads_check(attachments, case=case)  # all files and the quotas are checked before any is stored
    appeal = Appeal.objects.create(case=case, reasons=limited_text(reasons, "appeal.reasons"), filed_by=actor.user)
    for upload in attachments:
        evidence_store(case=case, actor=actor, upload=upload, description="申诉附件")
    save(case, actor, HistoryAction.APPEAL, to_state=CaseState.APPEALED, reason=appeal.reasons)
    # A member who recused takes no part in the review either: no to-do they could never take.
    recused = set(case.recusals.values_list("member_id", flat=True))
    reviewers = [u for u in members(case_authority(case.subject).committee, Role.COMMITTEE) if u.pk not in recused]
    notify(reviewers, case, f"收到申诉：{case.subject.name}《{case.title}》", task=HistoryAction.REVIEW_APPEAL)
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
    case = lock(case_id, actor, HistoryAction.REVIEW_APPEAL, expected_revision)
    result = choice(result, AppealResult, "result", "复核结果")
    resolution = limited_text(resolution, "decision.resolution", label="复核决定内容")
    meeting = Meeting.parse(meeting_kind=meeting_kind, meeting_date=meeting_date,
                            members_present=members_present, members_total=members_total)
    date_check(case, meeting.date, stage="appeal_review", field="meeting_date")
    if result == AppealResult.OVERTURNED:
        new_outcome = choice(outcome, Outcome, "outcome", "新的结论")
        if new_outcome == Outcome.REFUSED:
            raise InvalidInput("撤销不予容错的决定时，须作出免责、从轻或减轻的结论。", field="outcome")
    elif outcome:
        # Upheld means the refusal stands: a new outcome beside it would contradict the record.
        raise InvalidInput("维持原决定时不能另选结论；如需改变结论，请选择“撤销原决定”。", field="outcome")
    else:
        new_outcome = Outcome.REFUSED
    appeal = case.appeals.filter(result="").order_by("-filed_at").first()
    decision = decision_record(
        case, actor, kind=DecisionKind.APPEAL_REVIEW, outcome=new_outcome, meeting=meeting, resolution=resolution,
        override_reason=override_reason, appeal_result=result,
    )
    if appeal is not None:
        appeal.result = result
        appeal.review_decision = decision
        appeal.save(update_fields=["result", "review_decision"])
    case.outcome = new_outcome
    target = CaseState.DECIDED if result == AppealResult.OVERTURNED else CaseState.CLOSED
    save(case, actor, HistoryAction.REVIEW_APPEAL, to_state=target, fields=["outcome"], reason=resolution,
         changes={"result": result, "outcome": new_outcome})
    outbox(case, OutboxKind.APPEAL_REVIEWED, {"decision": decision.pk})
    failure_record(case, decision, actor)  # 应容未容 (张家口 第十一条(四)), if the review says so
    notify(parties(case), case, f"申诉复核结果：{AppealResult(result).label}")
    return decision


def cases_close_expired(*, today: dt.date | None = None) -> int:
    """Close executed cases whose appeal window has passed (run by Celery beat); safe to run twice."""
    today = today or timezone.localdate()
    system = Actor(user=None, role="system", via="task")
    closed = 0
    ids = list(Case.objects.filter(state=CaseState.EXECUTED, appeal_deadline__lt=today).values_list("pk", flat=True))
    for case_id in ids:
        with transaction.atomic():
            # Re-read under the lock: an appeal may have arrived since the list was taken.
            case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id, state=CaseState.EXECUTED).first()
            if case is None or not case.appeal_deadline or case.appeal_deadline >= today:
                continue
            save(case, system, HistoryAction.CLOSE, to_state=CaseState.CLOSED, reason="申诉期限届满，自动办结")
            closed += 1
    return closed


@transaction.atomic
def case_reassign(
    *, case_id: int, actor: Actor, handler: User | None, reason: str, expected_revision: int | None = None
) -> Case:
    """Hand the case to another active inspector of the same department (转交), with a reason."""
    case = lock(case_id, actor, HistoryAction.REASSIGN, expected_revision)
    reason = limited_text(reason, "action.reason", label="转交理由")
    if handler is None or not handler.is_active or not handler.memberships.filter(
        organisation_id=case.accountability_org_id, role=Role.INSPECTOR
    ).exists():
        raise InvalidInput("新承办人须为本问责部门的纪检监察干部。", field="handler")
    if handler.pk == case.handler_id:
        raise InvalidInput("新承办人与当前承办人相同。", field="handler")
    previous = case.handler
    before = previous.display_name() if previous else ""
    case.handler = handler
    visits_reassign(case, handler)
    save(case, actor, HistoryAction.REASSIGN, fields=["handler"], reason=reason,
         changes={"handler": {"before": before, "after": handler.display_name()}})
    if previous is not None:  # the previous handler's to-dos pass to the new one
        moved = list(Notification.objects.filter(case=case, user=previous, done_at__isnull=True).exclude(task="")
                     .values_list("task", flat=True))
        Notification.objects.filter(case=case, user=previous, done_at__isnull=True).exclude(task="").update(
            done_at=timezone.now(), done_reason=f"案件已转交{handler.display_name()}"[:200],
            read_at=Coalesce(F("read_at"), timezone.now()))
        for task in dict.fromkeys(moved):
            notify([handler], case, f"转交给您的待办：{HistoryAction(task).label}《{case.title}》", task=task)
    notify([handler], case, f"{actor.name}将案件转交给您：{reason[:100]}")
    return case


@transaction.atomic
def case_withdraw(*, case_id: int, actor: Actor, reason: str, expected_revision: int | None = None) -> Case:
    """Withdraw a case before the decision (the department, or the applicant), with a reason."""
    case = lock(case_id, actor, HistoryAction.WITHDRAW, expected_revision)
    reason = limited_text(reason, "action.reason", label="撤回理由")
    ended = consultations_close(case, by=actor.user, reason=f"案件已撤回：{reason}")
    return save(case, actor, HistoryAction.WITHDRAW, to_state=CaseState.WITHDRAWN, reason=reason,
                changes={"consultations_ended": ended} if ended else None)


@transaction.atomic
def accountability_record(
    *, case_id: int, actor: Actor, measure: str, measured_on: Any = None, expected_revision: int | None = None
) -> Case:
    """Record what the matter ended in for the person: 问责, 组织提醒, or neither, with its date.

    A later case of the same matter reads it: Zhangjiakou's X9 counts an earlier case only
    「在被问责或组织提醒后」, from that date.
    """
    case = lock(case_id, actor, HistoryAction.RECORD_ACCOUNTABILITY, expected_revision)
    measure = choice(measure, AccountabilityMeasure, "measure", "问责或组织提醒情况")
    measured = None
    if measure != AccountabilityMeasure.NONE:
        if not measured_on:
            raise InvalidInput("请填写问责或组织提醒的日期。", field="measured_on")
        measured = as_date(measured_on, "measured_on", "问责或组织提醒日期")
        if measured > timezone.localdate():
            raise InvalidInput("问责或组织提醒日期不能晚于今天。", field="measured_on")
        if measured < case.conduct_date:
            raise InvalidInput(f"问责或组织提醒日期不能早于行为发生日期（{cn_date(case.conduct_date)}）。",
                               field="measured_on")
    before = {"measure": case.accountability_measure, "date": case.accountability_measure_date}
    case.accountability_measure, case.accountability_measure_date = measure, measured
    return save(case, actor, HistoryAction.RECORD_ACCOUNTABILITY,
                fields=["accountability_measure", "accountability_measure_date"],
                changes={"before": before, "after": {"measure": measure, "date": measured}})


@transaction.atomic
def delivery_correct(
    *, case_id: int, actor: Actor, delivered_on: Any, reason: str, expected_revision: int | None = None
) -> Case:
    """Correct the recorded delivery date of the written feedback, with the reason.

    The appeal window moves with it, and the documents that print the date are re-issued as a new
    version (the outbox's ``case_corrected``), so the old one's verification page points at the new.
    """
    case = lock(case_id, actor, HistoryAction.CORRECT_DELIVERY, expected_revision)
    reason = limited_text(reason, "action.reason", label="更正理由")
    delivered = as_date(delivered_on, "delivered_on", "送达日期")
    if delivered == case.delivered_on:
        raise InvalidInput("新的送达日期与原记录相同。", field="delivered_on")
    latest_meeting = case.decisions.order_by("-sequence").values_list("meeting_date", flat=True).first()
    if delivered > timezone.localdate():
        raise InvalidInput("送达日期不能晚于今天。", field="delivered_on")
    if latest_meeting is not None and delivered < latest_meeting:
        raise InvalidInput(f"送达日期（{cn_date(delivered)}）不能早于决定的会议日期（{cn_date(latest_meeting)}）。",
                           field="delivered_on")
    before = {"delivered_on": case.delivered_on, "appeal_deadline": case.appeal_deadline}
    case.delivered_on = delivered
    case.appeal_deadline = delivered + dt.timedelta(days=appeal_window_days())
    save(case, actor, HistoryAction.CORRECT_DELIVERY, fields=["delivered_on", "appeal_deadline"],
         deadline=case.appeal_deadline if case.outcome == Outcome.REFUSED else None, reason=reason,
         changes={"before": before, "after": {"delivered_on": delivered, "appeal_deadline": case.appeal_deadline}})
    outbox(case, OutboxKind.CASE_CORRECTED, {"fields": ["delivered_on", "appeal_deadline"], "reason": reason})
    visits_schedule(case, actor)  # planned return visits move with the delivery date
    if case.outcome == Outcome.REFUSED:
        notify(parties(case), case, f"送达日期已更正为 {cn_date(delivered)}；申诉期限相应调整为 "
                                    f"{cn_date(case.appeal_deadline)}。")
    return case
