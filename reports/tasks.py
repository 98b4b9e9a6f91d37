"""Celery doors into the reports services: they take ids, call one service, and are safe to run twice."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


def _backoff(retries: int) -> int:
    """Seconds before the next retry: doubling from 10 s, at most 10 minutes."""
    return min(10 * 2**retries, 600)


@shared_task(name="reports.tasks.outbox_dispatch", ignore_result=True)
def outbox_dispatch() -> int:
    """Run by beat every 30 s and after each commit that wrote an outbox row."""
    return services.outbox_dispatch()


@shared_task(bind=True, name="reports.tasks.document_generate", ignore_result=True, max_retries=MAX_RETRIES,
             acks_late=True, reject_on_worker_lost=True, soft_time_limit=settings.DOCUMENT_SOFT_TIME_LIMIT,
             time_limit=settings.DOCUMENT_TIME_LIMIT)
def document_generate(self: Task, document_id: int) -> None:
    """Render one document; retry with backoff, and after the last retry mark it failed.

    A rendering that outlasts the soft time limit fails at once (it would not be faster next time); a
    worker killed at the hard limit has its message redelivered, and the service fails the document
    after ``DOCUMENT_MAX_ATTEMPTS`` deliveries.
    """
    try:
        services.document_generate(document_id=document_id, task_id=self.request.id or "")
    except SoftTimeLimitExceeded:
        logger.error("document %s exceeded %s s", document_id, settings.DOCUMENT_SOFT_TIME_LIMIT)
        services.document_fail(document_id=document_id,
                               error=f"生成超时：超过{settings.DOCUMENT_SOFT_TIME_LIMIT}秒仍未完成，已停止生成，不再重试。"
                                     "请核对案件中是否有异常冗长的内容。")
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.exception("document %s failed", document_id)
            services.document_fail(document_id=document_id, error=message)
            return
        logger.warning("document %s failed (%s); retrying", document_id, message)
        services.document_note_error(document_id=document_id, error=message)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="reports.tasks.export_build", ignore_result=True, max_retries=MAX_RETRIES,
             acks_late=True, reject_on_worker_lost=True)
def export_build(self: Task, job_id: int) -> str:
    """Run one step of an export and queue the next while filings are still being rendered."""
    try:
        state = services.export_build(job_id=job_id)
    except Exception as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.exception("export %s failed", job_id)
            return services.export_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if state == "waiting" and self.request.is_eager:
        # In-process mode renders synchronously: still waiting means something is stuck, so say so.
        return services.export_fail(job_id=job_id, error="备案表未能全部生成，请稍后重试。")
    if state == "waiting":
        # Filings are still being rendered by the workers; look again shortly instead of blocking one.
        services.export_queue(job_id, countdown=1)
    return state


@shared_task(name="reports.tasks.annual_report_generate", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=settings.DOCUMENT_SOFT_TIME_LIMIT,
             time_limit=settings.DOCUMENT_TIME_LIMIT)
def annual_report_generate(report_id: int) -> None:
    """Render one annual report (statistics, PDF and XLSX); a second run changes nothing."""
    services.annual_report_generate(report_id=report_id)


@shared_task(name="reports.tasks.insight_tally_flush", ignore_result=True)
def insight_tally_flush() -> int:
    """The statistics task: fold the changed cells into the summary table, so readers find little to do."""
    from .tally import tally_flush

    return tally_flush()


@shared_task(name="reports.tasks.insight_tally_check", ignore_result=True)
def insight_tally_check() -> int:
    """Repair months written behind the summary table's back (cases loaded in bulk)."""
    from .tally import tally_check

    return len(tally_check())
