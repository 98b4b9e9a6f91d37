"""Reacting to workflow's outbox: each event becomes the pending documents it calls for.

An event is marked dispatched in the same transaction that creates its documents (and takes their
numbers), so an event is handled once, and a failed one is retried later without blocking the others.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case
from workflow.models import Decision, DecisionKind, OutboxEvent

from ..models import Document, DocumentKind
from .documents import document_request, documents_requeue_stale

logger = logging.getLogger(__name__)

# The reason each event gives its documents (shown in the document list and history).
EVENT_REASONS = {
    "case_decided": "党委作出容错认定决定",
    "appeal_reviewed": "申诉复核决定",
    "application_submitted": "提交书面申请",
}


def _kinds_for(event: OutboxEvent, decision: Decision | None) -> list[tuple[str, bool]]:
    """Which documents an event calls for, and whether each continues the previous number."""
    if event.kind == "case_decided":
        return [(DocumentKind.FEEDBACK, False), (DocumentKind.FILING, False)]
    if event.kind == "appeal_reviewed":
        kinds = [(DocumentKind.APPEAL_REVIEW, False)]
        if decision is not None and decision.appeal_result == "overturned":
            # A new conclusion: a new feedback letter, and the filing corrected under its number.
            kinds += [(DocumentKind.FEEDBACK, False), (DocumentKind.FILING, True)]
        return kinds
    if event.kind == "application_submitted":
        return [(DocumentKind.APPLICATION, False)]
    return []


def _decision_date_record(event: OutboxEvent, decision: Decision | None) -> None:
    """Make sure the register knows the case's decision date (the first decision's meeting date).

    ``case_decide`` sets it with the decision; this covers decisions recorded before it did, and never
    moves a date already set (a later decision or an appeal review does not change it).
    """
    if event.kind == "case_decided" and decision is not None and decision.kind == DecisionKind.DECISION:
        Case.objects.filter(pk=event.case_id, decision_date__isnull=True).update(decision_date=decision.meeting_date)


def _event_handle(event: OutboxEvent) -> list[Document]:
    """Request the documents an event calls for that it has not produced yet."""
    decision_id = (event.payload or {}).get("decision")
    decision = Decision.objects.filter(pk=decision_id, case_id=event.case_id).first() if decision_id else None
    _decision_date_record(event, decision)
    created = []
    for kind, keep_number in _kinds_for(event, decision):
        if Document.objects.filter(event=event, kind=kind).exists():
            continue  # already handled (idempotent)
        created.append(document_request(
            case=event.case, kind=kind, decision=decision, event=event, keep_number=keep_number,
            reason=EVENT_REASONS.get(event.kind, event.kind),
        ))
    return created


def outbox_dispatch(*, limit: int = 200) -> int:
    """Turn pending outbox events into pending documents, then re-queue documents the broker lost."""
    handled = 0
    skipped: list[int] = []
    while handled < limit:
        with transaction.atomic():
            event = (
                # skip_locked: two dispatchers running at once take different events.
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(dispatched_at__isnull=True).exclude(pk__in=skipped)
                .select_related("case__accountability_org").order_by("id").first()
            )
            if event is None:
                break
            try:
                with transaction.atomic():
                    _event_handle(event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not block the others
                logger.exception("outbox event %s failed", event.pk)
                OutboxEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:2000])
                skipped.append(event.pk)
                continue
            OutboxEvent.objects.filter(pk=event.pk).update(
                dispatched_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
            )
        handled += 1
    documents_requeue_stale()
    return handled
