"""Reacting to workflow's outbox: each event becomes the pending documents it calls for.

An event is marked dispatched in the same transaction that creates its documents (and takes their
numbers), so an event is handled once, and a failed one is retried later without blocking the others.
"""

from __future__ import annotations

import logging

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case
from workflow.models import AppealResult, Decision, DecisionKind, OutboxEvent, OutboxKind

from ..models import Document, DocumentKind, DocumentStatus
from .documents import clarification_documents_ensure, document_request, documents_requeue_stale

logger = logging.getLogger(__name__)

# The reason each event gives its documents (shown in the document list and history).
EVENT_REASONS = {
    OutboxKind.CASE_DECIDED: "党委作出容错认定决定",
    OutboxKind.APPEAL_REVIEWED: "申诉复核决定",
    OutboxKind.APPLICATION_SUBMITTED: "提交书面申请",
}
OVERTURNED_REASON = "申诉复核撤销原决定，依复核决定重新出具（原版本被替代）"

# The case facts each issued document prints: a correction of one of them reissues that document.
# The application is printed as submitted and is never reissued for a later correction.
PRINTED_FACTS = {
    DocumentKind.FEEDBACK: {"title", "matter_category", "conduct_date", "subject", "applicant_unit",
                            "delivered_on", "appeal_deadline", "outcome"},
    DocumentKind.FILING: {"title", "summary", "remedial_measures", "matter_category", "conduct_date", "subject",
                          "applicant_unit", "loss_amount", "disposition", "origin", "outcome"},
    DocumentKind.APPEAL_REVIEW: {"title", "subject", "applicant_unit", "outcome"},
}


def _kinds_for(event: OutboxEvent, decision: Decision | None) -> list[tuple[str, bool]]:
    """Which documents an event calls for, and whether each continues the previous number."""
    if event.kind == OutboxKind.CASE_DECIDED:
        return [(DocumentKind.FEEDBACK, False), (DocumentKind.FILING, False)]
    if event.kind == OutboxKind.APPEAL_REVIEWED:
        kinds = [(DocumentKind.APPEAL_REVIEW, False)]
        if decision is not None and decision.appeal_result == AppealResult.OVERTURNED:
            # A new conclusion: a new feedback letter, and the filing corrected under its number.
            kinds += [(DocumentKind.FEEDBACK, False), (DocumentKind.FILING, True)]
        return kinds
    if event.kind == OutboxKind.APPLICATION_SUBMITTED:
        return [(DocumentKind.APPLICATION, False)]
    if event.kind == OutboxKind.CASE_CORRECTED:
        # Facts printed in issued documents changed: each issued document printing one is reissued
        # under its number as a new version; its old version then says it is replaced.
        fields = set((event.payload or {}).get("fields") or [])
        issued = set(Document.objects.filter(case_id=event.case_id, status=DocumentStatus.READY)
                     .values_list("kind", flat=True))
        return [(kind, True) for kind, facts in PRINTED_FACTS.items() if kind in issued and facts & fields]
    return []


def _fact_label(name: str) -> str:
    """A case field as a reader knows it (事项名称), or the name as given."""
    try:
        return str(Case._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return str(name)


def _reason_for(event: OutboxEvent, kind: str, decision: Decision | None) -> str:
    """Why the document is (re)issued, as its version records it."""
    payload = event.payload or {}
    if event.kind == OutboxKind.APPEAL_REVIEWED and kind != DocumentKind.APPEAL_REVIEW:
        return OVERTURNED_REASON
    if event.kind == OutboxKind.CASE_CORRECTED:
        labels = "、".join(_fact_label(f) for f in payload.get("fields") or [])
        given = str(payload.get("reason") or "").strip()
        return f"更正已出具文书所载事实（{labels}）" + (f"：{given}" if given else "")
    return EVENT_REASONS.get(event.kind, event.kind)


def _decision_date_record(event: OutboxEvent, decision: Decision | None) -> None:
    """Make sure the register knows the case's decision date (the first decision's meeting date).

    ``case_decide`` sets it with the decision; this covers decisions recorded before it did, and never
    moves a date already set (a later decision or an appeal review does not change it).
    """
    if event.kind == OutboxKind.CASE_DECIDED and decision is not None and decision.kind == DecisionKind.DECISION:
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
        basis = decision
        if event.kind == OutboxKind.CASE_CORRECTED:
            # The same decision as the version it replaces: only the corrected facts change.
            last = Document.objects.filter(case_id=event.case_id, kind=kind).order_by("-version").first()
            basis = last.decision if last is not None else None
        created.append(document_request(
            case=event.case, kind=kind, decision=basis, event=event, keep_number=keep_number,
            reason=_reason_for(event, kind, decision),
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
    clarification_documents_ensure()
    documents_requeue_stale()
    return handled
