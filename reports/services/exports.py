"""Bulk export jobs of the filing register: created, queued, built step by step, failed, downloaded.

A job never blocks a worker while the filings it needs are being rendered: each step checks, reports
progress and, if filings are still pending, returns "waiting" so the task looks again shortly.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation
from cases.models import Case
from workflow.errors import InvalidInput, NotAllowed
from workflow.history import Actor, history_append
from workflow.models import HistoryAction

from ..models import DocumentKind, DocumentStatus, ExportJob, ExportKind, ExportStatus
from ..permissions import may_use_filing_register
from ..selectors import FILING_FILTERS, FilingFilterError, current_filings, filing_filters_check, filing_list
from .archive import export_write
from .caselist import case_list_download_record, case_list_export_build
from .documents import document_request

logger = logging.getLogger(__name__)

# A job whose filings are not all ready this long after it started fails instead of waiting for ever.
EXPORT_WAIT_LIMIT = dt.timedelta(minutes=30)


@transaction.atomic
def export_job_create(
    *, actor: Actor, date_from: dt.date, date_to: dt.date, organisation: Organisation | None = None,
    filters: dict[str, str] | None = None,
) -> ExportJob:
    """Start an export of the filings decided in a period (optionally one organisation's subtree, and the
    register's other filters: ``outcome``, ``ruleset``, ``q``)."""
    user = actor.user
    if user is None or not may_use_filing_register(user):
        raise NotAllowed("只有组织部门可以导出备案材料。")
    if date_from > date_to:
        raise InvalidInput("起始日期不能晚于截止日期。", field="from")
    filters = {k: str(v) for k, v in (filters or {}).items() if k in FILING_FILTERS and v}
    try:
        filing_filters_check(outcome=filters.get("outcome", ""), ruleset=filters.get("ruleset", ""))
    except FilingFilterError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    job = ExportJob.objects.create(requested_by=user, organisation=organisation, date_from=date_from, date_to=date_to,
                                   filters=filters)
    history_append(case_id=None, actor=actor, action=HistoryAction.FILING_EXPORT,
                   changes={"job": job.pk, "from": date_from, "to": date_to,
                            "organisation": organisation.name if organisation else "", **filters})
    transaction.on_commit(partial(export_queue, job.pk))
    return job


def export_queue(job_id: int, *, countdown: float = 0) -> bool:
    """Hand a job's next step to Celery; if the broker is down, the job stays pending and says so."""
    from ..tasks import export_build  # the tasks module imports these services

    try:
        export_build.apply_async(args=[job_id], countdown=countdown or None, retry=False)
    except Exception as exc:  # noqa: BLE001 - the job stays pending; the page shows it
        logger.warning("export %s not queued (%s)", job_id, exc)
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(error=f"排队失败，请稍后重试：{exc}")
        return False
    return True


def export_fail(*, job_id: int, error: str) -> str:
    """Mark a job failed with a message for the page; returns "failed" (the step's result)."""
    # Never turn a finished export into a failed one: a late redelivery may follow a success.
    ExportJob.objects.filter(pk=job_id).exclude(status=ExportStatus.READY).update(
        status=ExportStatus.FAILED, error=error[:4000], finished_at=timezone.now())
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
    if job.kind == ExportKind.CASES:
        return case_list_export_build(job)
    # The first step fixes the list of cases and requests missing filings; it counts as done only once
    # the list is saved, so a crash or redelivery before that simply repeats it.
    if not job.case_ids:
        cases = list(filing_list(job.requested_by, date_from=job.date_from, date_to=job.date_to,
                                 organisation=job.organisation, **(job.filters or {})))
        ids = [c.pk for c in cases]
        docs = current_filings(ids)
        need = [c for c in cases if docs.get(c.pk) is None or docs[c.pk].status == DocumentStatus.FAILED]
        for case in need:
            with transaction.atomic():
                document_request(case=case, kind=DocumentKind.FILING, reason=f"备案导出 #{job.pk}",
                                 requested_by=job.requested_by, keep_number=True, queue="exports")
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
        return export_fail(job_id=job.pk,
                           error=f"{len(missing)} 份备案表缺失：{'、'.join(c.reference for c in missing[:10])}")
    failed = [c for c in cases if docs[c.pk].status == DocumentStatus.FAILED]
    if failed:
        names = "、".join(f"{c.reference}（{docs[c.pk].error[:60]}）" for c in failed[:10])
        return export_fail(job_id=job.pk, error=f"{len(failed)} 份备案表未能生成：{names}")
    ready = sum(1 for c in cases if docs[c.pk].status == DocumentStatus.READY)
    total = len(cases)
    if ready < total:
        if timezone.now() - job.started_at > EXPORT_WAIT_LIMIT:
            return export_fail(job_id=job.pk, error=f"等待备案表生成超时：{total - ready} 份仍未生成。")
        # Rendering is the first 80 %; zipping the files is the rest.
        ExportJob.objects.filter(pk=job.pk).update(progress=min(80, ready * 80 // max(total, 1)))
        return "waiting"
    export_write(job, cases, docs)
    return "done"


def export_download_record(*, job: ExportJob, actor: Actor) -> None:
    """Audit a download of an export: who took which archive (by its SHA-256) of which period."""
    if job.kind == ExportKind.CASES:
        case_list_download_record(job=job, actor=actor)
        return
    with transaction.atomic():
        history_append(case_id=None, actor=actor, action=HistoryAction.FILING_EXPORT_DOWNLOAD,
                       changes={"job": job.pk, "sha256": job.sha256, "count": job.total,
                                "from": job.date_from, "to": job.date_to})
