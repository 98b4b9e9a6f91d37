"""A document's life: requested (numbered, pending), queued, claimed, rendered, ready or failed, reissued.

A number once committed always has a document row, retried until it is ready or visibly failed, and a
correction reissues it under the same number as a new version, so the register has no holes. Rendering
takes a fifth of a second or more and never runs under a lock, so two workers render in parallel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from cases.models import Case, Origin
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.history import Actor, history_append
from workflow.models import Clarification, Decision, DecisionKind, HistoryAction, Notification, OutboxEvent

from ..contexts import document_context
from ..fonts import FontMissing
from ..models import Document, DocumentKind, DocumentStatus
from ..pdf import DocumentRefused, render_html, render_pdf, template_for
from ..permissions import may_regenerate
from .numbers import number_format, number_next

logger = logging.getLogger(__name__)

SYSTEM = Actor(user=None, role="system", via="task")
# A pending document queued this long ago and not being worked on is queued again (broker was down).
REQUEUE_AFTER = dt.timedelta(seconds=60)
# A worker holds a document this long at most; a longer claim is taken to be a dead worker.
CLAIM_LEASE = dt.timedelta(minutes=10)
NUMBERED_KINDS = (DocumentKind.FEEDBACK, DocumentKind.FILING, DocumentKind.APPEAL_REVIEW)


# --- requesting and queuing ----------------------------------------------------------------------

def document_request(
    *,
    case: Case,
    kind: str,
    decision: Decision | None = None,
    event: OutboxEvent | None = None,
    reason: str = "",
    requested_by: User | None = None,
    keep_number: bool = False,
    queue: str = "",
) -> Document:
    """Create the next version of a document as pending and queue its generation after commit (on ``queue``
    instead of the documents queue when given)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("document_request must run inside a transaction")
    # One version at a time per case: lock the case row while the version and number are taken.
    Case.objects.select_for_update(of=("self",)).filter(pk=case.pk).values_list("pk", flat=True).first()
    last = Document.objects.filter(case=case, kind=kind).order_by("-version").first()
    issuing_org = case.accountability_org if kind in NUMBERED_KINDS else None
    number = ""
    if keep_number and last is not None and last.number:
        number = last.number
    elif issuing_org is not None:
        year = timezone.localdate().year
        number = number_format(issuing_org, year, number_next(organisation=issuing_org, year=year))
    document = Document.objects.create(
        case=case,
        kind=kind,
        version=(last.version + 1) if last else 1,
        number=number,
        issuing_org=issuing_org,
        decision=decision,
        event=event,
        reason=reason[:200],
        requested_by=requested_by,
        token=secrets.token_urlsafe(16),
        queue=queue,
    )
    transaction.on_commit(partial(document_queue, document.pk, queue=queue))
    return document


def document_queue(document_id: int, *, queue: str = "") -> bool:
    """Hand a pending document to Celery (the routing table's queue unless ``queue`` is given); if the broker
    is down the dispatcher queues it again later."""
    from ..tasks import document_generate  # the tasks module imports these services

    Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(queued_at=timezone.now())
    try:
        document_generate.apply_async(args=[document_id], retry=False, **({"queue": queue} if queue else {}))
    except Exception as exc:  # noqa: BLE001 - any broker failure: the row stays pending and is re-queued
        logger.warning("document %s not queued (%s); the dispatcher will retry", document_id, exc)
        return False
    return True


def documents_requeue_stale(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Queue again the pending documents the broker lost or a dead worker held; returns how many were queued."""
    now = now or timezone.now()
    stale = (
        Document.objects.filter(status=DocumentStatus.PENDING)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("id").values_list("pk", "queue")[:limit]
    )
    count = 0
    for document_id, queue in list(stale):
        count += document_queue(document_id, queue=queue)
    return count


def clarification_document_request(*, clarification: Clarification, reason: str = "",
                                   requested_by: User | None = None) -> Document:
    """The next version of a clarification's notice (澄清正名通知), numbered by the clarifying body."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("clarification_document_request must run inside a transaction")
    Clarification.objects.select_for_update().filter(pk=clarification.pk).values_list("pk", flat=True).first()
    kind = DocumentKind.CLARIFICATION
    last = Document.objects.filter(clarification=clarification, kind=kind).order_by("-version").first()
    issuing_org = clarification.organisation
    if last is not None and last.number:
        number = last.number
    else:
        year = timezone.localdate().year
        number = number_format(issuing_org, year, number_next(organisation=issuing_org, year=year))
    document = Document.objects.create(
        case=clarification.case, clarification=clarification, kind=kind,
        version=(last.version + 1) if last else 1, number=number, issuing_org=issuing_org,
        reason=reason[:200], requested_by=requested_by, token=secrets.token_urlsafe(16),
    )
    transaction.on_commit(partial(document_queue, document.pk))
    return document


def clarification_documents_ensure(*, limit: int = 200) -> int:
    """Request the notice of every clarification that has none yet (run by the dispatcher); safe twice."""
    issued = Document.objects.filter(kind=DocumentKind.CLARIFICATION, clarification__isnull=False).values(
        "clarification_id")
    waiting = list(Clarification.objects.exclude(pk__in=issued).order_by("id").values_list("pk", flat=True)[:limit])
    created = 0
    for pk in waiting:
        with transaction.atomic():
            clarification = Clarification.objects.select_for_update().select_related("organisation").get(pk=pk)
            if Document.objects.filter(clarification=clarification, kind=DocumentKind.CLARIFICATION).exists():
                continue  # another dispatcher was first
            clarification_document_request(clarification=clarification, reason="澄清正名")
            created += 1
    return created


# --- generating ----------------------------------------------------------------------------------

def _claim(document_id: int, task_id: str) -> bool:
    """Compare-and-set: one task works on a document; its own redelivery (same id) may take over."""
    now = timezone.now()
    mine = Q(claim_task="") | Q(claimed_at__lt=now - CLAIM_LEASE)
    if task_id:
        mine |= Q(claim_task=task_id)
    return bool(
        Document.objects.filter(mine, pk=document_id, status=DocumentStatus.PENDING).update(
            claim_task=task_id or f"local-{secrets.token_hex(8)}", claimed_at=now, attempts=F("attempts") + 1
        )
    )


def document_render(document: Document) -> tuple[bytes, int]:
    """The PDF bytes and page count of a document (no database writes)."""
    jurisdiction = document.case.ruleset if document.case_id else document.clarification.organisation.jurisdiction
    html = render_html(template_for(document.kind, jurisdiction), document_context(document))
    rendered = render_pdf(html)
    return rendered.content, rendered.pages


def document_generate(*, document_id: int, task_id: str = "") -> Document | None:
    """Render and store one pending document; safe to run twice (the second run changes nothing).

    A missing Chinese font or a refusal (no site address, too many pages) fails the document at once
    (retrying cannot help); other errors propagate
    so the task retries with backoff and finally calls ``document_fail``.
    """
    document = Document.objects.filter(pk=document_id).only("pk", "status", "attempts").first()
    if document is None or document.status != DocumentStatus.PENDING:
        return document
    if document.attempts >= settings.DOCUMENT_MAX_ATTEMPTS:
        # Each delivery counts, including one after a worker was killed (time or memory limit): a
        # document that keeps killing workers stops here instead of being redelivered for ever.
        return document_fail(document_id=document_id, error=(
            f"已尝试生成{document.attempts}次仍未成功（可能超时或内存超限导致进程被终止），不再重试。"
            "请核对案件内容后重新生成。"))
    if not _claim(document_id, task_id):
        return None  # another worker has it
    document = Document.objects.select_related(
        "case__subject__unit", "case__accountability_org", "case__applicant", "case__applicant_unit", "issuing_org", "decision",
        "clarification__person__unit", "clarification__organisation",
    ).get(pk=document_id)
    try:
        content, pages = document_render(document)
    except (FontMissing, DocumentRefused) as exc:
        return document_fail(document_id=document_id, error=str(exc))
    digest = hashlib.sha256(content).hexdigest()
    sm3_digest = hashlib.new("sm3", content).hexdigest() if settings.SM3_AVAILABLE else ""
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document_id)
        if locked.status != DocumentStatus.PENDING:
            return locked  # finished meanwhile by an earlier delivery
        # The digest in the name: a reissued version never overwrites the file of an earlier one.
        locked.file.save(f"{locked.kind}-{locked.pk}-v{locked.version}-{digest[:12]}.pdf", ContentFile(content),
                         save=False)
        locked.sha256 = digest
        locked.sm3 = sm3_digest
        locked.size = len(content)
        locked.pages = pages
        locked.status = DocumentStatus.READY
        locked.error = ""
        locked.generated_at = timezone.now()
        locked.claim_task = ""
        locked.save(update_fields=["file", "sha256", "sm3", "size", "pages", "status", "error", "generated_at",
                                   "claim_task"])
        # Every earlier version points at this one: its verification page links to the version in force.
        owner = {"case_id": locked.case_id} if locked.case_id else {"clarification_id": locked.clarification_id}
        Document.objects.filter(**owner, kind=locked.kind, version__lt=locked.version).update(
            superseded=True, superseded_by=locked
        )
    return locked


def document_note_error(*, document_id: int, error: str) -> None:
    """A transient failure: keep it pending (a retry follows) but show what went wrong."""
    Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(
        error=f"{timezone.localtime():%H:%M:%S} 的尝试失败，将自动重试：{error}"[:2000]
    )


def document_fail(*, document_id: int, error: str) -> Document | None:
    """Mark a document failed, say so in the case history and tell the system administrators."""
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status != DocumentStatus.PENDING:
            return document
        document.status = DocumentStatus.FAILED
        document.error = error[:2000]
        document.claim_task = ""
        document.save(update_fields=["status", "error", "claim_task"])
        history_append(
            case_id=document.case_id, actor=SYSTEM, action=HistoryAction.DOCUMENT_FAILED, reason=document.error,
            changes={"document": document.pk, "kind": document.kind, "version": document.version,
                     "number": document.number},
        )
        _administrators_tell(document)
    return document


def _administrators_tell(document: Document) -> None:
    """An in-app notice to every active superuser: a failed document needs someone to look at it."""
    about = document.case.reference if document.case_id else f"澄清正名#{document.clarification_id}"
    text = f"文书生成失败：{about} {document.get_kind_display()} 第{document.version}版。{document.error}"
    admins = User.objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True)
    Notification.objects.bulk_create(
        [Notification(user_id=pk, case_id=document.case_id, text=text[:300]) for pk in admins])


# --- reissuing and auditing ----------------------------------------------------------------------

@transaction.atomic
def document_regenerate(*, case: Case, kind: str, actor: Actor, reason: str) -> Document:
    """Reissue a document after a correction: a new version under the same number; the old is kept."""
    if actor.user is None or not may_regenerate(actor.user, case):
        raise NotAllowed("只有问责部门可以重新生成文书。")
    if kind not in DocumentKind.values:
        raise InvalidInput(f"未知文书类别：{kind!r}", field="kind")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请说明重新生成的原因（如更正的内容）。", field="reason")
    last = Document.objects.filter(case=case, kind=kind).order_by("-version").first()
    decision = last.decision if last is not None else None
    if kind == DocumentKind.APPLICATION and case.origin != Origin.APPLICATION:
        raise WrongState("本案不是依申请启动，没有申请书。")
    if kind != DocumentKind.APPLICATION and decision is None:
        # Never issued yet: base it on the latest decision of the matching kind.
        wanted = DecisionKind.APPEAL_REVIEW if kind == DocumentKind.APPEAL_REVIEW else DecisionKind.DECISION
        decision = case.decisions.filter(kind=wanted).order_by("-sequence").first()
        if decision is None:
            raise WrongState("尚未作出相应决定，不能生成此文书。")
    document = document_request(case=case, kind=kind, decision=decision, reason=reason, requested_by=actor.user,
                                keep_number=True)
    history_append(case_id=case.pk, actor=actor, action=HistoryAction.DOCUMENT_REGENERATE, reason=reason,
                   changes={"kind": kind, "version": document.version, "number": document.number})
    return document


def document_download_record(*, document: Document, actor: Actor) -> None:
    """Audit a download: who took which version of which document."""
    with transaction.atomic():
        history_append(
            case_id=document.case_id, actor=actor, action=HistoryAction.DOCUMENT_DOWNLOAD,
            changes={"document": document.pk, "kind": document.kind, "number": document.number,
                     "version": document.version, "sha256": document.sha256},
        )
