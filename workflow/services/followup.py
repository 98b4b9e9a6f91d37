"""Follow-through after a decision: return visits, clarification, and failures to tolerate.

- 回访: Zhangjiakou 第十一条(五)「建立回访机制，加强对被问责干部的后续管理、关心帮助，防止“一问了之”」;
  Hohhot art. 19「開展好受處分干部回訪工作」. The documents give no dates: the months after delivery
  are configuration (``RETURN_VISIT_MONTHS``, 配置).
- 澄清正名: Zhangjiakou 第十一条(三); Hohhot art. 18 (「誰辦理、誰澄清」) and art. 17 (诬告陷害).
- 应容未容: Zhangjiakou 第十一条(四)「应予“容错”的，但追责问责机关不作为、慢作为、不敢担当，未予“容错”的，
  要对相关责任人进行问责」.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Person, Role, User
from accounts.selectors import case_authority
from cases.models import Case, Outcome

from ..errors import InvalidInput, NotAllowed, WrongState
from ..history import Actor, history_append
from ..models import (
    Clarification,
    ClarificationScope,
    Decision,
    FailureStatus,
    FailureToTolerate,
    FailureTrigger,
    HistoryAction,
    Notification,
    ReturnVisit,
    VisitForm,
)
from ..timeline import cn_date
from .kernel import as_date, choice, limited_text, lock, members, notify, outbox_kick, save

TEXT_MAX = 5000
NAME_MAX = 100


def _text(value: Any, field: str, label: str, *, required: bool = True, max_length: int = TEXT_MAX) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidInput(f"请填写{label}。", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label}不能超过 {max_length} 字（现有 {len(text)} 字）。", field=field)
    return text


# --- return visits (回访) ---------------------------------------------------------------------------

def visit_months(jurisdiction: str, org: Any = None) -> list[int]:
    """Months after delivery at which visits are scheduled (配置): the organisation's setting in the admin
    (inherited down the tree), else the jurisdiction's in the environment, else the default."""
    if org is not None:
        from ..deadlines import limits_for

        months = limits_for(org).return_visit_months
        if months:
            return months
    by_jurisdiction = getattr(settings, "RETURN_VISIT_MONTHS_BY_JURISDICTION", {}) or {}
    return list(by_jurisdiction.get(jurisdiction) or getattr(settings, "RETURN_VISIT_MONTHS", [3, 6]))


def _visit_notice(visit: ReturnVisit, case: Case) -> None:
    if visit.assignee is None:
        return
    created = notify([visit.assignee], case,
                     f"回访待办：{case.subject.name}《{case.title}》，计划于 {cn_date(visit.due_on)} "
                     f"{visit.get_form_display()}", task=HistoryAction.COMPLETE_VISIT)
    visit.notice = created[0] if created else None
    visit.save(update_fields=["notice"])


def visits_schedule(case: Case, actor: Actor) -> list[ReturnVisit]:
    """Plan the configured visits from the delivery date; run inside the action that delivered it.

    Idempotent: a visit already planned for the same month moves with a corrected delivery date, a
    completed one stays as it was. Called under the case lock by ``case_execute`` and ``delivery_correct``.
    """
    if case.delivered_on is None:
        return []
    planned: list[ReturnVisit] = []
    for months in visit_months(case.accountability_org.jurisdiction, case.accountability_org):
        due = case.delivered_on + relativedelta(months=months)
        visit = ReturnVisit.objects.select_for_update().filter(case=case, months_after=months).first()
        if visit is None:
            visit = ReturnVisit.objects.create(case=case, due_on=due, months_after=months, assignee=case.handler)
            _visit_notice(visit, case)
        elif not visit.done and visit.due_on != due:
            visit.due_on = due
            visit.save(update_fields=["due_on"])
        planned.append(visit)
    if planned:
        history_append(case_id=case.pk, actor=actor, action=HistoryAction.SCHEDULE_VISIT,
                       from_state=case.state, to_state=case.state,
                       changes={"visits": [{"months_after": v.months_after, "due_on": v.due_on} for v in planned]})
    return planned


def _future_or_today(value: Any, field: str, label: str) -> dt.date:
    day = as_date(value, field, label)
    if day < timezone.localdate():
        raise InvalidInput(f"{label}不能早于今天。", field=field)
    return day


@transaction.atomic
def visit_add(*, case_id: int, actor: Actor, due_on: Any, form: Any = VisitForm.TALK) -> ReturnVisit:
    """A further visit planned by hand (e.g. the cadre asked for one), assigned to the handler."""
    case = lock(case_id, actor, HistoryAction.SCHEDULE_VISIT, None)
    due = _future_or_today(due_on, "due_on", "计划回访日期")
    if case.delivered_on is not None and due < case.delivered_on:
        raise InvalidInput(f"计划回访日期不能早于送达日期（{cn_date(case.delivered_on)}）。", field="due_on")
    form = choice(form, VisitForm, "form", "回访形式")
    visit = ReturnVisit.objects.create(case=case, due_on=due, form=form, assignee=case.handler or actor.user)
    _visit_notice(visit, case)
    save(case, actor, HistoryAction.SCHEDULE_VISIT,
         changes={"visit": visit.pk, "due_on": due, "form": form})
    return visit


@transaction.atomic
def visit_complete(
    *, case_id: int, actor: Actor, visit_id: Any, visited_on: Any, form: Any, notes: Any, cadre_state: Any,
) -> ReturnVisit:
    """Record a visit done: when, how, what was said, how the cadre is doing now."""
    case = lock(case_id, actor, HistoryAction.COMPLETE_VISIT, None)
    try:
        visit = ReturnVisit.objects.select_for_update().filter(case=case, pk=int(visit_id)).first()
    except (TypeError, ValueError):
        visit = None
    if visit is None:
        raise InvalidInput("该回访不存在。", field="visit")
    if visit.done:
        raise WrongState(f"该回访已于 {cn_date(visit.visited_on)} 完成。")
    visited = as_date(visited_on, "visited_on", "回访日期")
    if visited > timezone.localdate():
        raise InvalidInput("回访日期不能晚于今天。", field="visited_on")
    if case.delivered_on is not None and visited < case.delivered_on:
        raise InvalidInput(f"回访日期不能早于送达日期（{cn_date(case.delivered_on)}）。", field="visited_on")
    visit.form = choice(form, VisitForm, "form", "回访形式")
    visit.notes = _text(notes, "notes", "回访记录")
    visit.cadre_state = _text(cadre_state, "cadre_state", "干部现实表现")
    visit.visited_on = visited
    visit.completed_by = actor.user
    visit.completed_at = timezone.now()
    visit.save(update_fields=["form", "notes", "cadre_state", "visited_on", "completed_by", "completed_at"])
    # Only this visit's notice is done; the next visit's stays on the handler's list.
    case.revision += 1
    case.save(update_fields=["revision", "updated_at"])
    history_append(case_id=case.pk, actor=actor, action=HistoryAction.COMPLETE_VISIT, from_state=case.state,
                   to_state=case.state, reason=visit.cadre_state,
                   changes={"visit": visit.pk, "visited_on": visited, "form": visit.form, "due_on": visit.due_on})
    now = timezone.now()
    done = Notification.objects.filter(case=case, task=HistoryAction.COMPLETE_VISIT, done_at__isnull=True)
    if visit.notice_id:
        done.filter(pk=visit.notice_id).update(done_at=now, done_reason="已办理", read_at=Coalesce(F("read_at"), now))
    if not case.return_visits.filter(completed_at__isnull=True).exists():
        done.update(done_at=now, done_reason="回访已全部完成", read_at=Coalesce(F("read_at"), now))
    return visit


def visits_reassign(case: Case, handler: User) -> int:
    """Open visits pass to the new handler with the case (called under the case lock by ``case_reassign``)."""
    return ReturnVisit.objects.filter(case=case, completed_at__isnull=True).update(assignee=handler)


# --- clarification (澄清正名) -------------------------------------------------------------------------

def clarifying_orgs(user: User, person: Person, case: Case | None) -> list[int]:
    """Organisations for which this user may clarify this cadre: the discipline commission with
    authority over the cadre, the one above it (报请上级直接实施澄清), and the case's handling department."""
    from ..permissions import scope_of

    authority = case_authority(person)
    candidates = [authority.discipline, authority.upper_discipline]
    if case is not None:
        candidates.append(case.accountability_org)
    inspector_orgs = scope_of(user).inspector_org_ids
    return [o.pk for o in candidates if o is not None and (o.pk in inspector_orgs or user.is_superuser)]


def may_clarify(user: User, person: Person, case: Case | None) -> bool:
    """Whether ``clarifying_orgs`` names any organisation, asking the organisation tree only when the
    answer depends on it (the case page asks this of every case it shows)."""
    from ..permissions import scope_of

    inspector_orgs = scope_of(user).inspector_org_ids
    if case is not None and case.accountability_org_id in inspector_orgs:  # the handling department
        return True
    if not inspector_orgs and not user.is_superuser:  # no candidate can be one of the user's departments
        return False
    return bool(clarifying_orgs(user, person, case))


@transaction.atomic
def clarification_record(
    *,
    actor: Actor,
    person: Person,
    case: Case | None = None,
    organisation_id: Any = None,
    decided_on: Any,
    scope: Any,
    basis: Any,
    accuser_referred_to: Any = "",
    accuser_referred_on: Any = None,
    accuser_outcome: Any = "",
) -> Clarification:
    """Record a clarification for a falsely or wrongly accused cadre, from a case or on its own."""
    user = actor.user
    if user is None:
        raise NotAllowed("缺少操作人。")
    if case is not None and case.subject_id != person.pk:
        raise InvalidInput("来源案件的当事干部与被澄清干部不一致。", field="case")
    if person.is_unit:
        raise InvalidInput("澄清正名针对干部个人，不能选择单位。", field="person")
    allowed = clarifying_orgs(user, person, case)
    if not allowed:
        raise NotAllowed("只有对该干部有管辖权的纪检监察机关或本案问责部门的干部可以澄清正名。")
    try:
        org_id = int(organisation_id) if organisation_id not in (None, "") else allowed[0]
    except (TypeError, ValueError):
        raise InvalidInput("澄清机关无效。", field="organisation") from None
    if org_id not in allowed:
        raise InvalidInput("您不能以该机关的名义澄清正名。", field="organisation")
    decided = as_date(decided_on, "decided_on", "决定日期")
    if decided > timezone.localdate():
        raise InvalidInput("决定日期不能晚于今天。", field="decided_on")
    scope = choice(scope, ClarificationScope, "scope", "通报范围")
    basis = _text(basis, "basis", "澄清依据")
    referred_to = _text(accuser_referred_to, "accuser_referred_to", "移送或处理机关", required=False,
                        max_length=NAME_MAX)
    referred_on = None
    if accuser_referred_on not in (None, ""):
        referred_on = as_date(accuser_referred_on, "accuser_referred_on", "移送日期")
        if referred_on > timezone.localdate():
            raise InvalidInput("移送日期不能晚于今天。", field="accuser_referred_on")
        if not referred_to:
            raise InvalidInput("填写移送日期时须填写移送或处理机关。", field="accuser_referred_to")
    outcome = _text(accuser_outcome, "accuser_outcome", "处理结果", required=False)
    clarification = Clarification.objects.create(
        person=person, case=case, organisation_id=org_id, decided_by=user, decided_on=decided, scope=scope,
        basis=basis, accuser_referred_to=referred_to, accuser_referred_on=referred_on, accuser_outcome=outcome,
    )
    history_append(case_id=case.pk if case else None, actor=actor, action=HistoryAction.CLARIFY,
                   reason=basis[:500], changes={"clarification": clarification.pk, "person": person.name,
                                                "scope": scope, "decided_on": decided})
    if person.user is not None and person.user.is_active:
        Notification.objects.create(user=person.user, case=case,
                                    text=f"已为您澄清正名（{ClarificationScope(scope).label}）")
    # The dispatcher issues the notice (澄清正名通知) for every clarification that has none yet.
    transaction.on_commit(outbox_kick)
    return clarification


@transaction.atomic
def clarification_referral(
    *, actor: Actor, clarification: Clarification, accuser_referred_to: Any, accuser_referred_on: Any,
    accuser_outcome: Any = "",
) -> Clarification:
    """Record (or update) the follow-up on the false accuser: to whom it was referred, when, the outcome."""
    user = actor.user
    locked = Clarification.objects.select_for_update().get(pk=clarification.pk)
    if user is None or locked.organisation_id not in clarifying_orgs(user, locked.person, locked.case):
        raise NotAllowed("只有作出澄清的机关可以记录对诬告陷害人的处理。")
    locked.accuser_referred_to = _text(accuser_referred_to, "accuser_referred_to", "移送或处理机关",
                                       max_length=NAME_MAX)
    referred_on = as_date(accuser_referred_on, "accuser_referred_on", "移送日期")
    if referred_on > timezone.localdate():
        raise InvalidInput("移送日期不能晚于今天。", field="accuser_referred_on")
    locked.accuser_referred_on = referred_on
    locked.accuser_outcome = _text(accuser_outcome, "accuser_outcome", "处理结果", required=False)
    locked.save(update_fields=["accuser_referred_to", "accuser_referred_on", "accuser_outcome"])
    history_append(case_id=locked.case_id, actor=actor, action=HistoryAction.CLARIFY,
                   reason=f"对诬告陷害人的处理：移送{locked.accuser_referred_to}",
                   changes={"clarification": locked.pk, "accuser_referred_to": locked.accuser_referred_to,
                            "accuser_referred_on": referred_on, "accuser_outcome": locked.accuser_outcome})
    return locked


# --- failures to tolerate (应容未容) -------------------------------------------------------------------

def failure_trigger(decision: Decision) -> str | None:
    """Which 应容未容 trigger, if any, a decision is: an appeal review overturning a refusal, or a
    refusal departing from a verdict of ``tolerable`` (its reason is for the upper level to accept)."""
    if decision.kind == "appeal_review" and decision.appeal_result == "overturned":
        return FailureTrigger.APPEAL_OVERTURNED
    verdict = (decision.evaluation or {}).get("verdict")
    if decision.outcome == Outcome.REFUSED and verdict == "tolerable":
        return FailureTrigger.DEPARTURE
    return None


def failure_record(case: Case, decision: Decision, actor: Actor) -> FailureToTolerate | None:
    """Record a possible 应容未容 matter for the upper-level commission; exactly once per decision.

    Runs inside the decision's transaction; a second call for the same decision returns the first.
    """
    trigger = failure_trigger(decision)
    if trigger is None:
        return None
    existing = FailureToTolerate.objects.filter(decision=decision).first()
    if existing is not None:
        return existing
    authority = case_authority(case.subject)
    reviewer = authority.upper_discipline or authority.discipline
    if trigger == FailureTrigger.APPEAL_OVERTURNED:
        summary = (f"申诉复核撤销了不予容错的决定，改为“{decision.get_outcome_display()}”。"
                   f"复核决定：{decision.resolution}")
    else:
        summary = ("规则评估为“予以容错”，党委作出不予容错的决定。"
                   f"不一致的理由：{decision.override_reason}")
    failure = FailureToTolerate.objects.create(case=case, decision=decision, trigger=trigger, reviewer=reviewer,
                                               summary=summary[:TEXT_MAX])
    history_append(case_id=case.pk, actor=actor, action=HistoryAction.FAILURE_RECORD, from_state=case.state,
                   to_state=case.state, reason=FailureTrigger(trigger).label,
                   changes={"failure": failure.pk, "decision": decision.pk, "trigger": trigger,
                            "reviewer": reviewer.name if reviewer else ""})
    if reviewer is not None:
        notify(members(reviewer, Role.INSPECTOR), case,
               f"可能的应容未容问题：{case.subject.name}《{case.title}》（{FailureTrigger(trigger).label}）")
    return failure


def _failure_locked(user: User, failure_id: Any) -> FailureToTolerate:
    from ..selectors import failures_visible

    try:
        pk = int(failure_id)
    except (TypeError, ValueError):
        pk = 0
    failure = failures_visible(user).select_for_update(of=("self",)).filter(pk=pk).first()
    if failure is None:
        raise InvalidInput("该问题不存在。", field="failure")
    if failure.status != FailureStatus.OPEN:
        raise WrongState(f"该问题已处理（{failure.get_status_display()}）。")
    return failure


def _may_resolve(user: User, failure: FailureToTolerate) -> None:
    from ..permissions import scope_of

    if not (user.is_superuser or failure.reviewer_id in scope_of(user).inspector_org_ids):
        raise NotAllowed("只有上级纪检监察机关的干部可以处理应容未容问题。")


@transaction.atomic
def failure_dismiss(*, actor: Actor, failure_id: Any, reason: Any) -> FailureToTolerate:
    """The upper-level commission accepts the reason (or finds no failure): dismissed, with its reason."""
    assert actor.user is not None  # noqa: S101 - doors pass a signed-in user
    failure = _failure_locked(actor.user, failure_id)
    _may_resolve(actor.user, failure)
    failure.resolution = limited_text(reason, "action.reason", label="排除理由")
    failure.status = FailureStatus.DISMISSED
    failure.resolved_by, failure.resolved_at = actor.user, timezone.now()
    failure.save(update_fields=["resolution", "status", "resolved_by", "resolved_at"])
    history_append(case_id=failure.case_id, actor=actor, action=HistoryAction.FAILURE_DISMISS,
                   reason=failure.resolution, changes={"failure": failure.pk})
    return failure


@transaction.atomic
def failure_open_case(*, actor: Actor, failure_id: Any, case_id: Any, note: Any = "") -> FailureToTolerate:
    """Link the case the upper-level commission opened about the responsible people (对相关责任人进行问责)."""
    from ..selectors import case_get

    assert actor.user is not None  # noqa: S101 - doors pass a signed-in user
    failure = _failure_locked(actor.user, failure_id)
    _may_resolve(actor.user, failure)
    wanted = str(case_id or "").strip()
    match = re.fullmatch(r"容案\d{4}-(\d+)", wanted)  # the reference people read, or the id the API uses
    opened = case_get(actor.user, match.group(1) if match else wanted)
    if opened is not None and match and opened.reference != wanted:
        opened = None
    if opened is None:
        raise InvalidInput("立案案件不存在，或您无权查看。", field="case")
    if opened.pk == failure.case_id:
        raise InvalidInput("立案案件不能是原案件本身。", field="case")
    failure.opened_case = opened
    failure.resolution = _text(note, "note", "说明", required=False)
    failure.status = FailureStatus.CASE_OPENED
    failure.resolved_by, failure.resolved_at = actor.user, timezone.now()
    failure.save(update_fields=["opened_case", "resolution", "status", "resolved_by", "resolved_at"])
    history_append(case_id=failure.case_id, actor=actor, action=HistoryAction.FAILURE_OPEN_CASE,
                   reason=failure.resolution, changes={"failure": failure.pk, "opened_case": opened.reference})
    return failure
