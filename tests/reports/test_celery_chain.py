"""The whole chain over real services: a committed decision becomes a stored PDF via a Celery worker.

These tests need PostgreSQL and Redis (CI sets DATABASE_URL and REDIS_URL); they skip locally otherwise.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from reports import services
from reports.models import Document, DocumentStatus
from tests.conftest import needs_services, require_programs
from tests.reports.conftest import drive_to_proposed, pdf_text, start_worker, stop_worker, wait_for
from workflow.models import OutboxEvent

pytestmark = pytest.mark.services

REDIS_PORT = 6390  # the test's own Redis: stopping it must not disturb the shared server on 6379


def _ready_documents(case_id: int) -> set[str]:
    return set(Document.objects.filter(case_id=case_id, status=DocumentStatus.READY).values_list("kind", flat=True))


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_decision_committed_task_runs_pdf_stored_and_listed_ready(world, api, celery_worker_process):
    case = drive_to_proposed(world)

    response = api("committee").post(f"/api/cases/{case.pk}/actions/decide/", {
        "outcome": "exempt", "meeting_kind": "standing", "meeting_date": timezone.localdate().isoformat(),
        "members_present": 9, "members_total": 11, "resolution": "同意免责。",
    }, format="json")
    assert response.status_code == 200, response.json()

    wait_for(lambda: _ready_documents(case.pk) >= {"feedback", "filing"}, timeout=90)
    listed = api("inspector").get(f"/api/cases/{case.pk}/documents/").json()
    assert {(d["kind"], d["status"]) for d in listed} == {("feedback", "ready"), ("filing", "ready")}
    feedback = Document.objects.get(case=case, kind="feedback")
    assert "王某同志" in pdf_text(feedback.file.path)
    assert OutboxEvent.objects.get(case=case).dispatched_at is not None


def _redis(*args: str) -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), *args], capture_output=True, timeout=10, check=False)


def _redis_start() -> None:
    subprocess.run(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                    "no", "--daemonize", "yes"], check=True, timeout=10)

    def up() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.5):
            return True
        return False

    wait_for(up, timeout=10, interval=0.1)


@contextlib.contextmanager
def _producer_on(url: str):
    """Point this process's Celery producer at another broker, and back afterwards."""
    from config.celery import app

    saved = app.conf.broker_url

    def reset() -> None:
        # kombu keeps one pool per broker address in a process-wide registry: closing a pool but leaving it
        # there would hand the closed pool back to the next test using that broker. Empty the registry.
        from kombu import pools as kombu_pools

        kombu_pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url = saved
        reset()


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_decision_succeeds_and_the_document_appears_once_redis_is_back(world, api):
    require_programs("redis-server", "redis-cli")  # a silent skip in CI would hide the whole scenario
    url = f"redis://127.0.0.1:{REDIS_PORT}/0"
    _redis_start()
    worker = None
    try:
        with _producer_on(url) as app:
            _redis("shutdown", "nosave")
            case = drive_to_proposed(world)

            response = api("committee").post(f"/api/cases/{case.pk}/actions/decide/", {
                "outcome": "exempt", "meeting_kind": "standing", "meeting_date": timezone.localdate().isoformat(),
                "members_present": 9, "members_total": 11, "resolution": "同意免责。",
            }, format="json")

            assert response.status_code == 200, response.content
            assert OutboxEvent.objects.get(case=case).dispatched_at is None  # waiting for the broker
            assert not Document.objects.filter(case=case).exists()

            _redis_start()
            worker = start_worker({"REDIS_URL": url}, "celery-worker-redis-down.log")
            wait_for(lambda: app.control.ping(timeout=1), timeout=60)
            app.tasks["reports.tasks.outbox_dispatch"].apply_async()  # what beat does every 30 s

            wait_for(lambda: _ready_documents(case.pk) >= {"feedback", "filing"}, timeout=90)
            assert OutboxEvent.objects.get(case=case).dispatched_at is not None
    finally:
        if worker is not None:
            stop_worker(worker)
        _redis("shutdown", "nosave")


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_and_gap_free_under_concurrency(world):
    org = world.orgs["zjk_dc"]
    taken: list[int] = []
    lock = threading.Lock()

    def take(rollback: bool) -> None:
        try:
            for _ in range(5):
                with contextlib.suppress(RuntimeError), transaction.atomic():
                    n = services.number_next(organisation=org, year=2031)
                    if rollback:
                        raise RuntimeError("rolled back: the number must be returned")
                    with lock:
                        taken.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i % 3 == 0,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(taken) == list(range(1, len(taken) + 1))
    assert len(taken) == 30
