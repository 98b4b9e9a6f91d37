"""Deadlines that act: the stage clock's pauses, requests for more material, reminders and escalation.

``deadlines_check`` is what beat (and the ``check_deadlines`` command) runs. Each step (催办 before
the deadline, 超期 once it has passed, 超期督办 after a further period) is taken once per case, stage
and entry into the stage: the unique key of ``DeadlineStep`` is written in the same transaction as
the notices and the history entry, so a second run, or a rerun after a worker died, adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, User
from cases.models import Case, CaseState

from ..deadlines import limits_for
from ..history import Actor, history_append
from ..models import (
    CasePause,
    Consultation,
    DeadlineStep,
    DeadlineStepKind,
    HistoryAction,
    HistoryEntry,
    PauseReason,
)
from .kernel import limited_text, lock, members, notify, parties, save

logger = logging.getLogger(__name__)

SYSTEM = Actor(user=None, via="task")
# The cadre's or unit's submissions that answer a request for more material.
MATERIAL_ANSWERS = frozenset({HistoryAction.ADD_EVIDENCE, HistoryAction.ADD_STATEMENT})


def cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- pauses --------------------------------------------------------------------------------------

def _waiting_for(case: Case, action: str, actor: Actor) -> dict[str, bool]:
    """Which reasons to wait still hold after ``action``: the clock stands still while any does."""
    consulting = case.state == CaseState.PROPOSED and Consultation.objects.filter(
        proposal__case=case, replied_at__isnull=True, closed_at__isnull=True).exists()
    material_open = CasePause.objects.filter(case=case, reason=PauseReason.MATERIAL, ended_at__isnull=True).exists()
    answered = action in MATERIAL_ANSWERS and actor.user is not None and actor.user.pk in {
        u.pk for u in parties(case)}
    material = material_open and case.state == CaseState.INVESTIGATING and not answered
    return {PauseReason.CONSULTATION: consulting, PauseReason.MATERIAL: material}


def clock_sync(case: Case, actor: Actor, action: str, from_state: str) -> None:
    """Open or end the case's pauses to match what it waits for; called by ``save`` in every action.

    A pause that ends in the stage it began in moves the stage deadline by the days it lasted (in
    working days when the jurisdiction counts working days); one ended by a change of stage does not,
    since the new stage has a deadline of its own.
    """
    wanted = _waiting_for(case, action, actor)
    open_pauses = {p.reason: p for p in CasePause.objects.select_for_update().filter(case=case, ended_at__isnull=True)}
    now = timezone.now()
    for reason, waiting in wanted.items():
        pause = open_pauses.get(reason)
        if waiting and pause is None and reason == PauseReason.CONSULTATION:
            pause_open(case, actor, reason=reason, note="")
        elif not waiting and pause is not None:
            _pause_end(case, actor, pause, now=now, same_stage=pause.stage == case.state and from_state == case.state)


def pause_open(case: Case, actor: Actor, *, reason: str, note: str) -> CasePause:
    pause = CasePause.objects.create(case=case, stage=case.state, reason=reason, note=note[:2000],
                                     started_at=timezone.now())
    history_append(case_id=case.pk, actor=actor, action=HistoryAction.CLOCK_PAUSE, from_state=case.state,
                   to_state=case.state, reason=PauseReason(reason).label,
                   changes={"reason": reason, "deadline": case.deadline.isoformat() if case.deadline else None})
    return pause


def _pause_end(case: Case, actor: Actor, pause: CasePause, *, now: dt.datetime, same_stage: bool) -> None:
    extended = 0
    old = case.deadline
    if same_stage and case.deadline is not None:
        limits = limits_for(case.accountability_org)
        extended = limits.between(timezone.localdate(pause.started_at), timezone.localdate(now))
        if extended:
            case.deadline = limits.add(case.deadline, extended)
            Case.objects.filter(pk=case.pk).update(deadline=case.deadline)
            # An update() sends no signal: the statistics' summary is told here.
            from reports.tally import cases_mark

            cases_mark([case.pk])
    pause.ended_at = now
    pause.extended_days = extended
    pause.save(update_fields=["ended_at", "extended_days"])
    unit = "个工作日" if limits_for(case.accountability_org).working else "天"
    text = f"{PauseReason(pause.reason).label}结束" + (
        f"，办理期限顺延 {extended} {unit}至{cn(case.deadline)}" if extended and case.deadline else "")
    history_append(case_id=case.pk, actor=actor, action=HistoryAction.CLOCK_RESUME, from_state=case.state,
                   to_state=case.state, reason=text,
                   changes={"reason": pause.reason, "extended_days": extended,
                            "deadline_before": old.isoformat() if old else None,
                            "deadline": case.deadline.isoformat() if case.deadline else None})


def material_request(*, case_id: int, actor: Actor, reason: str, expected_revision: int | None = None) -> Case:
    """The handler asks the cadre or unit for more material (补充材料): the stage clock stops until they submit."""
    with transaction.atomic():
        case = lock(case_id, actor, HistoryAction.REQUEST_MATERIAL, expected_revision)
        text = limited_text(reason, "action.reason", label="需补充的材料")
        pause_open(case, actor, reason=PauseReason.MATERIAL, note=text)
        save(case, actor, HistoryAction.REQUEST_MATERIAL, reason=text)
        notify(parties(case), case, f"{case.reference} 需要您补充材料：{text}（提交陈述或上传材料后继续计算办理期限）",
               task=HistoryAction.ADD_EVIDENCE)
    return case


def material_requested(case: Case) -> bool:
    return CasePause.objects.filter(case=case, reason=PauseReason.MATERIAL, ended_at__isnull=True).exists()


# --- reminders and escalation ---------------------------------------------------------------------

def heads_of(org: Organisation | None) -> list[User]:
    """The department's heads (部门负责人); without one marked, every inspector of the department."""
    if org is None:
        return []
    heads = list(User.objects.filter(memberships__organisation=org, memberships__is_head=True, is_active=True)
                 .distinct())
    return heads or members(org, Role.INSPECTOR)


def upper_commission(org: Organisation) -> Organisation | None:
    """The discipline commission one level up: the commission under the committee above ``org``'s own committee."""
    committees = [o for o in [org, *org.ancestors()] if o.kind == OrgKind.COMMITTEE]
    own = committees[0] if committees else None
    if own is None or own.parent is None:
        return None
    above = [o for o in [own.parent, *own.parent.ancestors()] if o.kind == OrgKind.COMMITTEE]
    if not above:
        return None
    return Organisation.objects.filter(parent=above[0], kind=OrgKind.DISCIPLINE).order_by("id").first()


def _round(case: Case) -> int:
    """How many times the case has entered its current stage (1 for the first time)."""
    entries = HistoryEntry.objects.filter(case=case, to_state=case.state).exclude(from_state=case.state).count()
    return max(entries, 1)


def steps_due(case: Case, today: dt.date) -> list[str]:
    """The steps whose day has come for the case's current stage, in order."""
    if case.deadline is None:
        return []
    return _steps_by(case.deadline, limits_for(case.accountability_org), today)


def _steps_by(deadline: dt.date, limits: Any, today: dt.date) -> list[str]:
    """催办 from the reminder lead before ``deadline``, 超期 after it, 超期督办 after the escalation period."""
    due = []
    if today >= limits.subtract(deadline, limits.reminder_lead_days):
        due.append(DeadlineStepKind.REMINDER)
    if today > deadline:
        due.append(DeadlineStepKind.OVERDUE)
    if today > limits.add(deadline, limits.escalation_days):
        due.append(DeadlineStepKind.ESCALATION)
    return due


def _step_text(case: Case, step: str, escalation_days: int) -> str:
    stage = case.get_state_display()
    head = f"{case.reference}《{case.title}》（{stage}）"
    if step == DeadlineStepKind.REMINDER:
        return f"催办：{head}的办理期限为{cn(case.deadline)}，即将届满，请及时办理。"
    if step == DeadlineStepKind.OVERDUE:
        return f"超期：{head}已超过办理期限（{cn(case.deadline)}），请督促承办人办理。"
    return f"超期督办：{head}超过办理期限（{cn(case.deadline)}）已逾 {escalation_days} 天仍未办理，请督办。"


def _recipients(case: Case, step: str) -> list[User]:
    handler = [case.handler] if case.handler is not None else members(case.accountability_org, Role.INSPECTOR)
    if step == DeadlineStepKind.REMINDER:
        return handler
    if step == DeadlineStepKind.OVERDUE:
        return handler + heads_of(case.accountability_org)
    upper = upper_commission(case.accountability_org)
    return heads_of(upper) + heads_of(case.accountability_org) if upper else heads_of(case.accountability_org)


_HISTORY = {
    DeadlineStepKind.REMINDER: HistoryAction.DEADLINE_REMINDER,
    DeadlineStepKind.OVERDUE: HistoryAction.DEADLINE_OVERDUE,
    DeadlineStepKind.ESCALATION: HistoryAction.DEADLINE_ESCALATION,
}


def deadline_step_take(*, case_id: int, step: str, today: dt.date) -> bool:
    """Take one step for the case's current stage if it is still due and not yet taken; True if taken."""
    with transaction.atomic():
        case = (Case.objects.select_for_update(of=("self",)).select_related("accountability_org", "handler")
                .filter(pk=case_id).first())
        if case is None or case.state not in CaseState.in_progress() or step not in steps_due(case, today):
            return False
        if CasePause.objects.filter(case=case, ended_at__isnull=True).exists():
            return False
        stage, round_ = case.state, _round(case)
        try:
            with transaction.atomic():
                DeadlineStep.objects.create(case=case, stage=stage, round=round_, step=step, deadline=case.deadline,
                                            taken_at=timezone.now())
        except IntegrityError:
            return False
        limits = limits_for(case.accountability_org)
        text = _step_text(case, step, limits.escalation_days)
        notify(_recipients(case, step), case, text)
        history_append(case_id=case.pk, actor=SYSTEM, action=_HISTORY[step], from_state=stage, to_state=stage,
                       reason=text, changes={"step": step, "round": round_, "deadline": case.deadline.isoformat()})
    return True


def deadlines_check(*, today: dt.date | None = None) -> dict[str, int]:
    """Run every due step of every running case; safe to run twice and to rerun after a crash."""
    today = today or timezone.localdate()
    taken: Counter[str] = Counter()
    paused = CasePause.objects.filter(ended_at__isnull=True).values("case_id")
    # No lead or escalation reaches further than this many calendar days ahead of a deadline.
    horizon = today + dt.timedelta(days=120)
    candidates = (Case.objects.filter(state__in=CaseState.in_progress(), deadline__isnull=False,
                                      deadline__lte=horizon)
                  .exclude(pk__in=paused).select_related("accountability_org").order_by("deadline", "id"))
    done = {(s.case_id, s.step) for s in DeadlineStep.objects.filter(case__in=candidates).only("case_id", "step")}
    for case in candidates.iterator():
        for step in steps_due(case, today):
            if (case.pk, step) in done and _already(case, step):
                continue
            if deadline_step_take(case_id=case.pk, step=step, today=today):
                taken[step] += 1
    for visit_id in _visits_to_check(today):
        for step in DeadlineStepKind.values:
            if visit_step_take(visit_id=visit_id, step=step, today=today):
                taken[f"visit_{step}"] += 1
    if taken:
        logger.info("期限检查：%s", dict(taken))
    result = {kind: taken.get(kind, 0) for kind in DeadlineStepKind.values}
    result.update({f"visit_{kind}": taken.get(f"visit_{kind}", 0) for kind in DeadlineStepKind.values})
    return result


# --- return visits (回访): their due dates remind and escalate like a stage's deadline ----------------

def visit_stage(visit_id: int) -> str:
    """The ``DeadlineStep.stage`` key of a return visit: each visit is reminded once per step."""
    return f"visit:{visit_id}"


def _visits_to_check(today: dt.date) -> list[int]:
    from ..models import ReturnVisit

    horizon = today + dt.timedelta(days=120)
    return list(ReturnVisit.objects.filter(completed_at__isnull=True, due_on__lte=horizon)
                .order_by("due_on", "id").values_list("pk", flat=True))


def visit_steps_due(visit: Any, today: dt.date) -> list[str]:
    """The steps whose day has come for an open return visit, as for a stage deadline."""
    return _steps_by(visit.due_on, limits_for(visit.case.accountability_org), today)


def _visit_text(visit: Any, step: str, escalation_days: int) -> str:
    case = visit.case
    head = f"{case.reference}《{case.title}》的回访（计划 {cn(visit.due_on)}，{visit.get_form_display()}）"
    if step == DeadlineStepKind.REMINDER:
        return f"催办：{head}即将到期，请按时回访并记录。"
    if step == DeadlineStepKind.OVERDUE:
        return f"超期：{head}已过计划日期仍未记录，请督促承办人回访。"
    return f"超期督办：{head}逾期已超过 {escalation_days} 天仍未完成，请督办。"


def visit_step_take(*, visit_id: int, step: str, today: dt.date) -> bool:
    """Take one reminder step for an open return visit if due and not yet taken; True if taken."""
    from ..models import ReturnVisit

    with transaction.atomic():
        visit = (ReturnVisit.objects.select_for_update(of=("self",))
                 .select_related("case__accountability_org", "case__handler", "assignee").filter(pk=visit_id).first())
        if visit is None or visit.completed_at is not None or step not in visit_steps_due(visit, today):
            return False
        case = visit.case
        try:
            with transaction.atomic():
                DeadlineStep.objects.create(case=case, stage=visit_stage(visit.pk), round=1, step=step,
                                            deadline=visit.due_on, taken_at=timezone.now())
        except IntegrityError:
            return False
        limits = limits_for(case.accountability_org)
        text = _visit_text(visit, step, limits.escalation_days)
        handler = [visit.assignee] if visit.assignee is not None else _recipients(case, DeadlineStepKind.REMINDER)
        if step == DeadlineStepKind.REMINDER:
            recipients = handler
        elif step == DeadlineStepKind.OVERDUE:
            recipients = handler + heads_of(case.accountability_org)
        else:
            recipients = _recipients(case, DeadlineStepKind.ESCALATION)
        notify(recipients, case, text)
        history_append(case_id=case.pk, actor=SYSTEM, action=_HISTORY[step], from_state=case.state,
                       to_state=case.state, reason=text,
                       changes={"step": step, "visit": visit.pk, "due_on": visit.due_on.isoformat()})
    return True


def _already(case: Case, step: str) -> bool:
    return DeadlineStep.objects.filter(case=case, stage=case.state, round=_round(case), step=step).exists()


def case_deadline_info(case: Case) -> dict[str, Any]:
    """What the case page shows about the clock (one query): the pauses and how far they moved the deadline."""
    pauses = list(CasePause.objects.filter(case=case))
    return {
        "pauses": pauses,
        "paused": any(p.ended_at is None for p in pauses),
        "extended_days": sum(p.extended_days or 0 for p in pauses if p.stage == case.state),
    }
