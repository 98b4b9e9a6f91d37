"""Heavy work never starves light work: each queue is consumed only by the workers that listen on it.

Real worker processes over Redis and PostgreSQL (skipped locally without them; CI sets both).
"""

from __future__ import annotations

import os
import time

import pytest
from django.utils import timezone

from reports import services
from reports.insight import organisations_for_insight
from reports.models import AnnualReport, AnnualReportStatus, Document, ExportJob, ExportStatus
from tests.conftest import needs_services
from tests.reports.conftest import (
    ARTIFACTS,
    actor,
    decide,
    drive_to_proposed,
    start_worker,
    stop_worker,
    wait_for,
)
from workflow.models import OutboxEvent

pytestmark = pytest.mark.services


def _queue_lengths(*queues: str) -> dict[str, int]:
    from config.celery import app

    with app.connection_for_write() as conn:
        return {q: conn.default_channel.queue_declare(queue=q).message_count for q in queues}


def _purge(*queues: str) -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        for q in queues:
            conn.default_channel.queue_purge(q)


def _started(queues: str, log_name: str):
    """A worker listening on ``queues`` only, once it answers; its own name, so no other worker's answer counts."""
    from config.celery import app

    node = f"{queues}-{os.getpid()}-{time.monotonic_ns()}@test"
    proc = start_worker({}, log_name, queues=queues, node=node)
    try:
        wait_for(lambda: proc.poll() is not None or app.control.ping(destination=[node], timeout=1), timeout=90)
        assert proc.poll() is None, (ARTIFACTS / log_name).read_text()
        listening = app.control.inspect(destination=[node], timeout=5).active_queues()[node]
        assert {q["name"] for q in listening} == set(queues.split(","))
    except BaseException:
        stop_worker(proc)
        raise
    return proc


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_an_export_and_the_filings_it_needs_are_done_by_a_worker_listening_only_on_exports(world):
    _purge("exports", "documents")
    # A decided case whose filing was never rendered: no documents worker runs in this test.
    case = drive_to_proposed(world)
    decide(world, case)
    worker = _started("exports", "celery-worker-exports.log")
    try:
        today = timezone.localdate()
        job = services.export_job_create(actor=actor(world, "orgdept"), date_from=today, date_to=today)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).status in (ExportStatus.READY, ExportStatus.FAILED),
                 timeout=120)
        job.refresh_from_db()
        assert job.status == ExportStatus.READY, job.error
        assert job.case_ids == [case.pk]
        filing = Document.objects.get(case=case, kind="filing")
        assert (filing.status, filing.queue) == ("ready", "exports")
        # The decision's own documents still wait on their queue: the export took none of its work.
        assert _queue_lengths("exports", "documents") == {"exports": 0, "documents": 1}
        assert OutboxEvent.objects.get(case=case).dispatched_at is None
    finally:
        stop_worker(worker)
        _purge("documents")


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_documents_wait_for_a_documents_worker_while_a_statistics_worker_does_its_own_work(world):
    _purge("documents", "statistics")
    worker = _started("statistics", "celery-worker-statistics.log")
    try:
        # A decision: its commit asks the outbox dispatcher (documents queue) to make its documents.
        case = drive_to_proposed(world)
        decide(world, case)
        assert OutboxEvent.objects.filter(case=case, dispatched_at__isnull=True).exists()

        # An annual report (statistics queue), requested after the decision: the worker renders it...
        user = world.users["committee"]
        report = services.annual_report_request(actor=actor(world, "committee"),
                                                organisation=organisations_for_insight(user).first().pk,
                                                year=timezone.localdate().year)
        wait_for(lambda: AnnualReport.objects.get(pk=report.pk).status != AnnualReportStatus.PENDING, timeout=90)
        assert AnnualReport.objects.get(pk=report.pk).status == AnnualReportStatus.READY
        time.sleep(3)  # ...and, a while later, still has not taken the decision's documents.

        assert _queue_lengths("documents")["documents"] >= 1
        assert OutboxEvent.objects.get(case=case).dispatched_at is None
        assert not Document.objects.filter(case=case).exists()
    finally:
        stop_worker(worker)
        _purge("documents")
