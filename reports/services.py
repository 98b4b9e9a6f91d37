"""Every change of state in reports: requesting, generating, failing and reissuing documents, exports.

Document numbers are taken when a document is requested, in the same transaction that creates its
row (and, for the outbox, marks the event dispatched). The counter row is locked only for that short
insert, so a rollback returns the number (no gap) and rendering, which takes a fifth of a second or
more, never runs under the lock: two workers render in parallel. A number once committed always has
a document row, retried until it is ready or visibly failed, and a correction reissues it under the
same number as a new version, so the register has no holes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import secrets
import tempfile
import zipfile
from functools import partial
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organisation, User
from cases.models import Case, Outcome
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.history import Actor, history_append
from workflow.models import Decision, DecisionKind, OutboxEvent

from .contexts import document_context
from .fonts import FontMissing
from .models import Document, DocumentKind, DocumentNumber, DocumentStatus, ExportJob, ExportStatus
from .pdf import render_html, render_pdf, template_for
from .permissions import may_regenerate, may_use_filing_register
from .selectors import current_filings, filing_list, first_decided

logger = logging.getLogger(__name__)

SYSTEM = Actor(user=None, role="system", via="task")
# A pending document queued this long ago and not being worked on is queued again (broker was down).
REQUEUE_AFTER = dt.timedelta(seconds=60)
# A worker holds a document this long at most; a longer claim is taken to be a dead worker.
CLAIM_LEASE = dt.timedelta(minutes=10)
EXPORT_WAIT_LIMIT = dt.timedelta(minutes=30)
NUMBERED_KINDS = (DocumentKind.FEEDBACK, DocumentKind.FILING, DocumentKind.APPEAL_REVIEW)


# --- numbers -------------------------------------------------------------------------------------

def number_next(*, organisation: Organisation, year: int) -> int:
    """The next number of an organisation's year, gap-free: must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next must run inside a transaction")
    counter = DocumentNumber.objects.select_for_update().filter(organisation=organisation, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                DocumentNumber.objects.create(organisation=organisation, year=year, last=0)
        except IntegrityError:
            pass  # created concurrently; lock the winner's row below
        counter = DocumentNumber.objects.select_for_update().get(organisation=organisation, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def number_format(organisation: Organisation, year: int, n: int) -> str:
    return f"{organisation.short_name or organisation.name}〔{year}〕{n}号"


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
) -> Document:
    """Create the next version of a document as pending and queue its generation after commit."""
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
    )
    transaction.on_commit(partial(document_queue, document.pk))
    return document


def document_queue(document_id: int) -> bool:
    """Hand a pending document to Celery; if the broker is down the dispatcher queues it again later."""
    from .tasks import document_generate

    Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(queued_at=timezone.now())
    try:
        document_generate.apply_async(args=[document_id], retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the row stays pending and is re-queued
        logger.warning("document %s not queued (%s); the dispatcher will retry", document_id, exc)
        return False
    return True


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


def _event_handle(event: OutboxEvent) -> list[Document]:
    decision_id = (event.payload or {}).get("decision")
    decision = Decision.objects.filter(pk=decision_id, case_id=event.case_id).first() if decision_id else None
    created = []
    for kind, keep_number in _kinds_for(event, decision):
        if Document.objects.filter(event=event, kind=kind).exists():
            continue  # already handled (idempotent)
        created.append(document_request(
            case=event.case, kind=kind, decision=decision, event=event, keep_number=keep_number,
            reason={"case_decided": "党委作出容错认定决定", "appeal_reviewed": "申诉复核决定",
                    "application_submitted": "提交书面申请"}.get(event.kind, event.kind),
        ))
    return created


def outbox_dispatch(*, limit: int = 200) -> int:
    """Turn pending outbox events into pending documents, then re-queue documents the broker lost."""
    handled = 0
    skipped: list[int] = []
    while handled < limit:
        with transaction.atomic():
            event = (
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


def documents_requeue_stale(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    stale = (
        Document.objects.filter(status=DocumentStatus.PENDING)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("id").values_list("pk", flat=True)[:limit]
    )
    count = 0
    for document_id in list(stale):
        count += document_queue(document_id)
    return count


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
    html = render_html(template_for(document.kind, document.case.ruleset), document_context(document))
    rendered = render_pdf(html)
    return rendered.content, rendered.pages


def document_generate(*, document_id: int, task_id: str = "") -> Document | None:
    """Render and store one pending document; safe to run twice (the second run changes nothing).

    A missing Chinese font fails the document at once (retrying cannot help); other errors propagate
    so the task retries with backoff and finally calls ``document_fail``.
    """
    document = Document.objects.filter(pk=document_id).only("pk", "status").first()
    if document is None or document.status != DocumentStatus.PENDING:
        return document
    if not _claim(document_id, task_id):
        return None  # another worker has it
    document = Document.objects.select_related(
        "case__subject__unit", "case__accountability_org", "case__applicant", "case__applicant_unit", "issuing_org", "decision"
    ).get(pk=document_id)
    try:
        content, pages = document_render(document)
    except FontMissing as exc:
        return document_fail(document_id=document_id, error=str(exc))
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document_id)
        if locked.status != DocumentStatus.PENDING:
            return locked  # finished meanwhile by an earlier delivery
        locked.file.save(f"{locked.kind}-{locked.pk}-v{locked.version}-{digest[:12]}.pdf", ContentFile(content),
                         save=False)
        locked.sha256 = digest
        locked.size = len(content)
        locked.pages = pages
        locked.status = DocumentStatus.READY
        locked.error = ""
        locked.generated_at = timezone.now()
        locked.claim_task = ""
        locked.save(update_fields=["file", "sha256", "size", "pages", "status", "error", "generated_at", "claim_task"])
        Document.objects.filter(case_id=locked.case_id, kind=locked.kind, version__lt=locked.version).update(
            superseded=True
        )
    return locked


def document_note_error(*, document_id: int, error: str) -> None:
    """A transient failure: keep it pending (a retry follows) but show what went wrong."""
    Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(
        error=f"{timezone.localtime():%H:%M:%S} 的尝试失败，将自动重试：{error}"[:2000]
    )


def document_fail(*, document_id: int, error: str) -> Document | None:
    """Mark a document failed and say so in the case history."""
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status != DocumentStatus.PENDING:
            return document
        document.status = DocumentStatus.FAILED
        document.error = error[:2000]
        document.claim_task = ""
        document.save(update_fields=["status", "error", "claim_task"])
        history_append(
            case_id=document.case_id, actor=SYSTEM, action="document_failed", reason=document.error,
            changes={"document": document.pk, "kind": document.kind, "version": document.version,
                     "number": document.number},
        )
    return document


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
    if kind == DocumentKind.APPLICATION and case.origin != "application":
        raise WrongState("本案不是依申请启动，没有申请书。")
    if kind != DocumentKind.APPLICATION and decision is None:
        wanted = DecisionKind.APPEAL_REVIEW if kind == DocumentKind.APPEAL_REVIEW else DecisionKind.DECISION
        decision = case.decisions.filter(kind=wanted).order_by("-sequence").first()
        if decision is None:
            raise WrongState("尚未作出相应决定，不能生成此文书。")
    document = document_request(case=case, kind=kind, decision=decision, reason=reason, requested_by=actor.user,
                                keep_number=True)
    history_append(case_id=case.pk, actor=actor, action="document_regenerate", reason=reason,
                   changes={"kind": kind, "version": document.version, "number": document.number})
    return document


def document_download_record(*, document: Document, actor: Actor) -> None:
    """Audit a download: who took which version of which document."""
    with transaction.atomic():
        history_append(
            case_id=document.case_id, actor=actor, action="document_download",
            changes={"document": document.pk, "kind": document.kind, "number": document.number,
                     "version": document.version, "sha256": document.sha256},
        )


# --- filing exports ------------------------------------------------------------------------------

@transaction.atomic
def export_job_create(
    *, actor: Actor, date_from: dt.date, date_to: dt.date, organisation: Organisation | None = None
) -> ExportJob:
    user = actor.user
    if user is None or not may_use_filing_register(user):
        raise NotAllowed("只有组织部门可以导出备案材料。")
    if date_from > date_to:
        raise InvalidInput("起始日期不能晚于截止日期。", field="from")
    job = ExportJob.objects.create(requested_by=user, organisation=organisation, date_from=date_from, date_to=date_to)
    history_append(case_id=None, actor=actor, action="filing_export",
                   changes={"job": job.pk, "from": date_from, "to": date_to,
                            "organisation": organisation.name if organisation else ""})
    transaction.on_commit(partial(export_queue, job.pk))
    return job


def export_queue(job_id: int, *, countdown: float = 0) -> bool:
    from .tasks import export_build

    try:
        export_build.apply_async(args=[job_id], countdown=countdown or None, retry=False)
    except Exception as exc:  # noqa: BLE001 - the job stays pending; the page shows it
        logger.warning("export %s not queued (%s)", job_id, exc)
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(error=f"排队失败，请稍后重试：{exc}")
        return False
    return True


def _export_fail(job: ExportJob, message: str) -> str:
    # Never turn a finished export into a failed one.
    ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.READY).update(
        status=ExportStatus.FAILED, error=message[:4000], finished_at=timezone.now())
    return "failed"


def export_build(*, job_id: int) -> str:
    """One step of an export: request missing filings, report progress, and zip them once all are ready.

    Returns "waiting" while filings are still being generated (the task runs this again shortly, so no
    worker sits blocked waiting for the others), "done" or "failed".
    """
    job = ExportJob.objects.select_related("requested_by", "organisation").filter(pk=job_id).first()
    if job is None or job.status in (ExportStatus.READY, ExportStatus.FAILED):
        return "done" if job is not None and job.status == ExportStatus.READY else "failed"
    if job.started_at is None:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now(), error="")
        job.started_at = timezone.now()
    # The first step fixes the list of cases and requests missing filings; it counts as done only once
    # the list is saved, so a crash or redelivery before that simply repeats it.
    if not job.case_ids:
        cases = list(filing_list(job.requested_by, date_from=job.date_from, date_to=job.date_to,
                                 organisation=job.organisation))
        ids = [c.pk for c in cases]
        docs = current_filings(ids)
        need = [c for c in cases if docs.get(c.pk) is None or docs[c.pk].status == DocumentStatus.FAILED]
        for case in need:
            with transaction.atomic():
                document_request(case=case, kind=DocumentKind.FILING, reason=f"备案导出 #{job.pk}",
                                 requested_by=job.requested_by, keep_number=True)
        if need:
            docs = current_filings(ids)
        ExportJob.objects.filter(pk=job.pk).update(case_ids=ids, total=len(ids))
    else:
        ids = list(job.case_ids)
        by_id = {c.pk: c for c in Case.objects.filter(pk__in=ids).select_related("subject__unit", "accountability_org")}
        cases = [by_id[i] for i in ids if i in by_id]
        docs = current_filings(ids)
    missing = [c for c in cases if c.pk not in docs]
    if missing:
        return _export_fail(job, f"{len(missing)} 份备案表缺失：{'、'.join(c.reference for c in missing[:10])}")
    failed = [c for c in cases if docs[c.pk].status == DocumentStatus.FAILED]
    if failed:
        names = "、".join(f"{c.reference}（{docs[c.pk].error[:60]}）" for c in failed[:10])
        return _export_fail(job, f"{len(failed)} 份备案表未能生成：{names}")
    ready = sum(1 for c in cases if docs[c.pk].status == DocumentStatus.READY)
    total = len(cases)
    if ready < total:
        if timezone.now() - job.started_at > EXPORT_WAIT_LIMIT:
            return _export_fail(job, f"等待备案表生成超时：{total - ready} 份仍未生成。")
        ExportJob.objects.filter(pk=job.pk).update(progress=min(80, ready * 80 // max(total, 1)))
        return "waiting"
    _export_write(job, cases, docs)
    return "done"


def _xlsx_register(job: ExportJob, rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("备案登记")
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["H"].width = 22
    ws.column_dimensions["L"].width = 66
    ws.append([f"容错纠错备案登记（{job.date_from:%Y-%m-%d} 至 {job.date_to:%Y-%m-%d}）"])
    header = ["序号", "案件编号", "当事干部", "所在单位", "职务", "问责部门", "适用规则", "决定日期", "容错结论",
              "发文字号", "版本", "SHA-256", "文件名"]
    ws.append(header)
    for i, row in enumerate(rows, start=1):
        ws.append([i, row["reference"], row["person"], row["unit"], row["position"], row["org"], row["ruleset"],
                   row["decided"], row["outcome"], row["number"], row["version"], row["sha256"], row["name"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _safe(name: str) -> str:
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in name)


def _export_write(job: ExportJob, cases: list[Case], docs: dict[int, Document]) -> None:
    decided = first_decided([c.pk for c in cases])
    rows: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    total = max(len(cases), 1)
    with tempfile.TemporaryFile() as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for i, case in enumerate(cases, start=1):
                doc = docs[case.pk]
                name = "备案表/" + _safe(f"{case.reference}-{doc.number or '无字号'}-v{doc.version}.pdf")
                with doc.file.open("rb") as fh:
                    content = fh.read()
                digest = hashlib.sha256(content).hexdigest()
                if digest != doc.sha256:
                    raise RuntimeError(f"{case.reference} 的备案表文件与登记的 SHA-256 不符，文件可能被改动。")
                archive.writestr(name, content)
                manifest.append({"file": name, "sha256": digest, "size": len(content), "case": case.reference,
                                 "number": doc.number, "version": doc.version})
                rows.append({
                    "reference": case.reference, "person": case.subject.name, "unit": case.subject.unit.name,
                    "position": case.subject.position, "org": case.accountability_org.name,
                    "ruleset": case.ruleset,
                    "decided": timezone.localtime(decided[case.pk]).strftime("%Y-%m-%d") if case.pk in decided else "",
                    "outcome": Outcome(case.outcome).label if case.outcome else "", "number": doc.number,
                    "version": doc.version, "sha256": digest, "name": name,
                })
                if i % 25 == 0:
                    ExportJob.objects.filter(pk=job.pk).update(total=len(cases), progress=80 + i * 18 // total)
            register = _xlsx_register(job, rows)
            archive.writestr("备案登记.xlsx", register)
            manifest.append({"file": "备案登记.xlsx", "sha256": hashlib.sha256(register).hexdigest(),
                             "size": len(register)})
            body = {
                "title": "容错纠错备案材料导出",
                "period": {"from": job.date_from.isoformat(), "to": job.date_to.isoformat()},
                "organisation": job.organisation.name if job.organisation else "",
                "requested_by": job.requested_by.display_name(),
                "generated_at": timezone.localtime().isoformat(timespec="seconds"),
                "count": len(cases),
                "files": manifest,
            }
            archive.writestr("manifest.json", json.dumps(body, ensure_ascii=False, indent=2))
            archive.writestr("SHA256SUMS", "".join(f"{m['sha256']}  {m['file']}\n" for m in manifest))
        tmp.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: tmp.read(1 << 20), b""):
            digest.update(chunk)
        size = tmp.tell()
        tmp.seek(0)
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status == ExportStatus.READY:
                return
            locked.file.save(f"filings-{job.pk}-{job.date_from:%Y%m%d}-{job.date_to:%Y%m%d}.zip", File(tmp), save=False)
            locked.sha256 = digest.hexdigest()
            locked.size = size
            locked.total = len(cases)
            locked.progress = 100
            locked.status = ExportStatus.READY
            locked.finished_at = timezone.now()
            locked.error = ""
            locked.save(update_fields=["file", "sha256", "size", "total", "progress", "status", "finished_at", "error"])


def export_download_record(*, job: ExportJob, actor: Actor) -> None:
    with transaction.atomic():
        history_append(case_id=None, actor=actor, action="filing_export_download",
                       changes={"job": job.pk, "sha256": job.sha256, "count": job.total,
                                "from": job.date_from, "to": job.date_to})
