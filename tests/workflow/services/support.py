"""What the per-service tests compare: a case's footprint before and after, the last history entry."""

from __future__ import annotations

from typing import Any

from cases.models import Case
from workflow.models import Decision, HistoryEntry, Notification, OutboxEvent, Proposal


def footprint(case: Case) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    row = Case.objects.get(pk=case.pk)
    return {
        "state": row.state, "outcome": row.outcome, "revision": row.revision, "handler": row.handler_id,
        "deadline": row.deadline, "delivered_on": row.delivered_on, "sent_back_reason": row.sent_back_reason,
        "history": HistoryEntry.objects.filter(case=case).count(),
        "notifications": Notification.objects.filter(case=case).count(),
        "outbox": OutboxEvent.objects.filter(case=case).count(),
        "proposals": Proposal.objects.filter(case=case).count(),
        "decisions": Decision.objects.filter(case=case).count(),
        "findings": case.findings.count(), "evidence": case.evidence.count(), "appeals": case.appeals.count(),
        "recusals": case.recusals.count(),
    }


def last_entry(case: Case) -> HistoryEntry:
    return HistoryEntry.objects.filter(case=case).order_by("id").last()


def notices(case: Case) -> dict[int, list[str]]:
    """Notification texts per user id."""
    out: dict[int, list[str]] = {}
    for user_id, text in Notification.objects.filter(case=case).order_by("id").values_list("user_id", "text"):
        out.setdefault(user_id, []).append(text)
    return out


def outbox(case: Case) -> list[tuple[str, dict[str, Any]]]:
    return list(OutboxEvent.objects.filter(case=case).order_by("id").values_list("kind", "payload"))


def names(callbacks: list) -> list[str]:
    """The on-commit callbacks queued, by name (the dispatcher kick is ``outbox_kick``)."""
    return [getattr(c, "__name__", repr(c)) for c in callbacks]
