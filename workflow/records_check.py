"""Records the procedure should never have allowed, found so a site can correct them.

Run by ``manage.py check_records``: dates out of the procedure's order, decisions taken while a
consultation was unanswered, appeal reviews whose result and outcome disagree, and to-dos left
open on cases that can no longer need them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from cases.models import Case, CaseState, Outcome

from .models import AppealResult, Consultation, Decision, DecisionKind
from .timeline import timeline_problems


def _unanswered_at_decision(case: Case) -> Iterator[str]:
    first = Decision.objects.filter(case=case, kind=DecisionKind.DECISION).order_by("sequence").first()
    if first is None:
        return
    waiting = Consultation.objects.filter(proposal__case=case, proposal__proposed_at__lte=first.decided_at).filter(
        Q(replied_at__isnull=True, closed_at__isnull=True) | Q(replied_at__gt=first.decided_at)
    ).select_related("organisation")
    for c in waiting:
        yield f"作出决定时{c.organisation.name}的会商意见尚未回复"


def _review_mismatch(case: Case) -> Iterator[str]:
    for d in Decision.objects.filter(case=case, kind=DecisionKind.APPEAL_REVIEW):
        if d.appeal_result == AppealResult.UPHELD and d.outcome != Outcome.REFUSED:
            yield f"申诉复核决定 #{d.pk} 维持原决定，却记载了新的结论“{d.get_outcome_display()}”"
        if d.appeal_result == AppealResult.OVERTURNED and d.outcome == Outcome.REFUSED:
            yield f"申诉复核决定 #{d.pk} 撤销原决定，却仍为不予容错"


def _orphans(case: Case) -> Iterator[str]:
    if case.state != CaseState.PROPOSED:
        for c in Consultation.objects.filter(proposal__case=case, replied_at__isnull=True, closed_at__isnull=True
                                             ).select_related("organisation"):
            yield f"案件{case.get_state_display()}，{c.organisation.name}的会商请求仍在待回复"


def record_problems(*, today: dt.date | None = None) -> Iterator[tuple[Case, str]]:
    """Every problem found, case by case, in case order."""
    today = today or timezone.localdate()
    for case in Case.objects.order_by("id").iterator(chunk_size=500):
        for problem in timeline_problems(case, today=today):
            yield case, problem
        for check in (_unanswered_at_decision, _review_mismatch, _orphans):
            for problem in check(case):
                yield case, problem
