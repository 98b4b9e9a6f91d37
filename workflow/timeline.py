"""A case's own timeline, and the one check every date a user enters must pass against it.

The procedure's order (conduct ≤ start ≤ investigation ≤ proposal ≤ consultation replies ≤
decision meeting ≤ delivery ≤ appeal ≤ appeal review meeting), none in the future. The date of a
decision, wherever it is shown, is the date of the meeting that took it (``Decision.meeting_date``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min
from django.utils import timezone

from cases.models import Case
from rules.dates import cn_date

from .errors import InvalidInput
from .models import Appeal, Consultation, Decision, DecisionKind, HistoryEntry, Proposal

# The milestones in procedural order, with the words a message uses for each.
ORDER = (
    ("conduct", "行为发生日期"),
    ("start", "启动（申请）日期"),
    ("investigation", "开始调查日期"),
    ("proposal", "提出初步建议日期"),
    ("consultation", "会商意见回复日期"),
    ("decision", "集体研究决定的会议日期"),
    ("delivery", "书面反馈送达日期"),
    ("appeal", "提出申诉日期"),
    ("appeal_review", "申诉复核的会议日期"),
)
LABELS = dict(ORDER)
RANK = {key: i for i, (key, _) in enumerate(ORDER)}


@dataclass(frozen=True)
class Milestone:
    key: str
    date: dt.date

    @property
    def label(self) -> str:
        return LABELS[self.key]




def _local(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def _first_delivery(case: Case) -> dt.date | None:
    """The first written feedback: a later re-delivery after an overturned appeal does not move it."""
    entry = HistoryEntry.objects.filter(case=case, action="execute").order_by("id").first()
    if entry is not None and entry.changes.get("delivered_on"):
        try:
            return dt.date.fromisoformat(str(entry.changes["delivered_on"]))
        except ValueError:
            pass
    return case.delivered_on


def case_milestones(case: Case) -> list[Milestone]:
    """What has happened to the case so far, each with its date, in procedural order."""
    found: dict[str, dt.date | None] = {
        "conduct": case.conduct_date,
        "start": _local(case.created_at),
        "investigation": _local(HistoryEntry.objects.filter(case=case, action="investigate")
                                .aggregate(at=Min("at"))["at"]),
        "proposal": _local(Proposal.objects.filter(case=case).aggregate(at=Max("proposed_at"))["at"]),
        "consultation": _local(Consultation.objects.filter(proposal__case=case)
                               .aggregate(at=Max("replied_at"))["at"]),
        "decision": Decision.objects.filter(case=case, kind=DecisionKind.DECISION)
        .aggregate(d=Min("meeting_date"))["d"],
        "delivery": _first_delivery(case),
        "appeal": _local(Appeal.objects.filter(case=case).aggregate(at=Max("filed_at"))["at"]),
        "appeal_review": Decision.objects.filter(case=case, kind=DecisionKind.APPEAL_REVIEW)
        .aggregate(d=Max("meeting_date"))["d"],
    }
    return [Milestone(key, date) for key, _ in ORDER if (date := found[key]) is not None]


def date_check(case: Case, value: dt.date, *, stage: str, field: str) -> None:
    """Refuse a date entered for ``stage`` that is in the future or before an earlier milestone."""
    label = LABELS[stage]
    if value > timezone.localdate():
        raise InvalidInput(f"{label}不能晚于今天。", field=field)
    earlier = [m for m in case_milestones(case) if RANK[m.key] < RANK[stage] and m.date > value]
    if earlier:
        latest = max(earlier, key=lambda m: (m.date, RANK[m.key]))
        raise InvalidInput(
            f"{label}（{cn_date(value)}）不能早于本案的{latest.label}（{cn_date(latest.date)}）。",
            field=field,
        )


def timeline_problems(case: Case, *, today: dt.date | None = None) -> list[str]:
    """Every place the recorded timeline breaks the procedure's order, one line each."""
    today = today or timezone.localdate()
    milestones = case_milestones(case)
    problems = [f"{m.label} {cn_date(m.date)} 晚于今天" for m in milestones if m.date > today]
    # The delivery on record now (a re-delivery after an overturned appeal replaces the first).
    delivered = case.delivered_on
    latest_meeting = Decision.objects.filter(case=case).aggregate(d=Max("meeting_date"))["d"]
    if delivered is not None and delivered != _first_delivery(case):
        if delivered > today:
            problems.append(f"书面反馈送达日期 {cn_date(delivered)} 晚于今天")
        if latest_meeting is not None and delivered < latest_meeting:
            problems.append(f"书面反馈送达日期 {cn_date(delivered)} 早于决定的会议日期 {cn_date(latest_meeting)}")
    for i, later in enumerate(milestones):
        for earlier in milestones[:i]:
            if later.date < earlier.date:
                problems.append(
                    f"{later.label} {cn_date(later.date)} 早于{earlier.label} {cn_date(earlier.date)}"
                )
    return problems
