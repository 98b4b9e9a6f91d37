"""What every action shares: lock and re-check, save with history, notify, announce, validate values.

The order inside an action is always the same: ``lock`` (row lock, revision check, the action
table's guard under the lock), validate, write the domain rows, ``save`` once with the fields that
changed (which also appends the hash-chained history entry), then notify and queue outbox events
that are handed to the dispatcher only after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.selectors import members_of
from cases.models import Case
from cases.selectors import case_evaluation
from rules.errors import RuleError

from ..deadlines import deadline_for
from ..errors import InvalidInput, NotAllowed, StaleRevision, WrongState
from ..history import Actor, history_append
from ..limits import LIMITS, too_long_message
from ..models import HistoryAction, MeetingKind, Notification, OutboxEvent, OutboxKind

logger = logging.getLogger(__name__)

OUTBOX_DISPATCH_TASK = "reports.tasks.outbox_dispatch"
_KEEP = object()  # "leave the deadline as the new state sets it"


# --- values --------------------------------------------------------------------------------------

def limited_text(value: str | None, key: str, *, required: bool = True, label: str | None = None) -> str:
    """A free text checked against its limit in ``workflow.limits.LIMITS``; the error names its field."""
    limit = LIMITS[key]
    return _within(value, limit.field, label or limit.label, limit.max_length, required=required)


def _within(value: str | None, field: str, label: str, max_length: int, *, required: bool) -> str:
    # Browsers submit a textarea's line breaks as CRLF but count (and show) them as one character.
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidInput(f"请填写{label}。", field=field)
    if len(text) > max_length:
        raise InvalidInput(too_long_message(label, max_length, len(text)), field=field)
    return text


def choice(value: str | None, choices: type, field: str, label: str) -> str:
    """One of a TextChoices' values, or a message listing the allowed ones."""
    if value not in choices.values:
        allowed = "、".join(f"{v}（{lbl}）" for v, lbl in choices.choices)
        raise InvalidInput(f"{label}无效：{value!r}，应为 {allowed}。", field=field)
    return str(value)


def as_date(value: Any, field: str, label: str) -> dt.date:
    """A date from a date, a datetime or an ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(f"{label}格式应为 YYYY-MM-DD。", field=field) from None


@dataclass(frozen=True)
class Meeting:
    """The committee meeting at which a decision was taken collectively (集体研究)."""

    kind: str
    date: dt.date
    present: int
    total: int

    @classmethod
    def parse(cls, *, meeting_kind: Any, meeting_date: Any, members_present: Any, members_total: Any) -> Meeting:
        """Validate a meeting: a known form, not in the future, and more than half the members present."""
        kind = choice(meeting_kind, MeetingKind, "meeting_kind", "会议形式")
        date = as_date(meeting_date, "meeting_date", "会议日期")
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
        return cls(kind=kind, date=date, present=present, total=total)

    @property
    def attendance(self) -> str:
        return f"{self.present}/{self.total}"


# --- lock and save -------------------------------------------------------------------------------

def lock(case_id: int, actor: Actor, action: str, expected_revision: int | None) -> Case:
    """Lock the case row and apply the action table's guard under the lock.

    The guard runs again here, not only at the door, because another request may have moved the
    case between the page being drawn and this transaction taking the lock.
    """
    from ..permissions import action_check  # the action table imports these services

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


def save(
    case: Case,
    actor: Actor,
    action: str,
    *,
    to_state: str | None = None,
    fields: Iterable[str] = (),
    deadline: Any = _KEEP,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> Case:
    """Write the changed fields once, bump the revision and append the history entry.

    A new state sets the stage deadline unless ``deadline`` says otherwise (e.g. the appeal window).
    """
    from_state = case.state
    update = set(fields) | {"revision", "updated_at"}
    if to_state is not None and to_state != case.state:
        case.state = to_state
        case.deadline = deadline_for(to_state, org=case.accountability_org)
        update |= {"state", "deadline"}
    if deadline is not _KEEP:
        case.deadline = deadline
        update.add("deadline")
    case.revision += 1
    case.save(update_fields=sorted(update))
    from .reminders import clock_sync  # the clock's pauses follow what the case waits for

    # Before the action's own entry, so that the action stays the case's latest history entry.
    clock_sync(case, actor, action, from_state)
    history_append(
        case_id=case.pk, actor=actor, action=action, from_state=from_state, to_state=case.state,
        reason=reason, changes=changes,
    )
    because = HistoryAction(action).label + (f"：{reason}" if reason else "")
    tasks_settle(case, done_by=actor.user, done=action, reason=because)
    return case


# --- tell people, tell the system ----------------------------------------------------------------

def notify(users: Iterable[User], case: Case, text: str, *, task: str = "") -> list[Notification]:
    """In-app notices, one per distinct user; ``task`` is the action the notice asks for, if any."""
    from .notices import email_state_for, notices_kick

    unique = {u.pk: u for u in users}.values()
    created = Notification.objects.bulk_create(
        [Notification(user=u, case=case, text=text[:300], task=task, email_state=email_state_for(u))
         for u in unique]
    )
    if any(n.email_state == "pending" for n in created):
        transaction.on_commit(notices_kick)
    return created


def tasks_settle(case: Case, *, done_by: User | None = None, done: str = "", users: Iterable[User] = (),
                 reason: str = "") -> int:
    """Close the case's open to-do notices that no longer ask anything of anyone.

    A notice is done when its own task was just taken (``done`` by ``done_by`` or by any of ``users``),
    and ends with ``reason`` when the case has left every state in which its task is open.
    """
    from ..actions import ACTIONS  # the action table imports these services

    now = timezone.now()
    open_tasks = Notification.objects.filter(case=case, done_at__isnull=True).exclude(task="")
    closed = 0
    if done:
        takers = {u.pk for u in users} | ({done_by.pk} if done_by is not None else set())
        closed += open_tasks.filter(task=done, user_id__in=takers).update(
            done_at=now, done_reason="已办理", read_at=Coalesce(F("read_at"), now))
    still_open = [name for name, spec in ACTIONS.items() if case.state in spec.sources]
    closed += open_tasks.exclude(task__in=still_open).update(
        done_at=now, done_reason=(reason or f"案件{case.get_state_display()}")[:200],
        read_at=Coalesce(F("read_at"), now))
    return closed


def tasks_end(case: Case, *, user: User, tasks: Iterable[str], reason: str) -> int:
    """End one user's open to-dos on the case that they can no longer take (e.g. after recusing)."""
    now = timezone.now()
    return Notification.objects.filter(case=case, user=user, done_at__isnull=True, task__in=list(tasks)).update(
        done_at=now, done_reason=reason[:200], read_at=Coalesce(F("read_at"), now))


def consultations_close(case: Case, *, by: User | None, reason: str) -> list[str]:
    """End every consultation request of the case still awaiting a reply; returns the departments."""
    from ..models import Consultation

    pending = Consultation.objects.select_for_update().filter(
        proposal__case=case, replied_at__isnull=True, closed_at__isnull=True
    ).select_related("organisation")
    names = [c.organisation.name for c in pending]
    pending.update(closed_at=timezone.now(), closed_reason=reason[:2000], closed_by=by)
    return names


def members(org: Organisation | None, role: str) -> list[User]:
    return list(members_of(org, role))


def parties(case: Case) -> list[User]:
    """Who receives the outcome: the subject (the cadre, or the officers of a unit held accountable)
    and the applying unit's current officers (not only the one who filed)."""
    users = [case.subject.user] if case.subject.user is not None else []
    if case.subject.is_unit:
        users += members(case.subject.unit, Role.UNIT)
    if case.applicant_unit_id:
        users += members(case.applicant_unit, Role.UNIT)
    return users


def outbox(case: Case, kind: OutboxKind, payload: dict[str, Any] | None = None) -> None:
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


def evaluation_dict(case: Case) -> dict[str, Any]:
    """The case's current evaluation as stored on proposals; a rule problem is the ruleset's 400."""
    try:
        return case_evaluation(case).to_dict()
    except RuleError as exc:
        raise InvalidInput(str(exc), field="ruleset") from None
