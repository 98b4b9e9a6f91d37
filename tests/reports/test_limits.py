"""Resource limits of documents: a page limit, task time limits and a bounded number of deliveries."""

from __future__ import annotations

import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.test import override_settings

from cases.models import Case
from reports import services, tasks
from reports.models import Document, DocumentKind, DocumentStatus
from tests.reports.conftest import actor, decide, drive_to_proposed
from workflow.models import HistoryEntry, Notification

pytestmark = pytest.mark.django_db


def _failed(case, kind):
    doc = Document.objects.get(case=case, kind=kind)
    assert doc.status == DocumentStatus.FAILED and not doc.file
    return doc


def test_a_case_whose_text_would_make_hundreds_of_pages_fails_once_before_layout(
        world, django_capture_on_commit_callbacks):
    # Given a summary far beyond any text limit (written past the services, as an old import might have)
    case = drive_to_proposed(world)
    Case.objects.filter(pk=case.pk).update(summary="该同志在整改中先行关停违规企业。" * 20_000)

    # When the decision produces its documents
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case)
    elapsed = time.monotonic() - started

    # Then the filing report (which prints the summary) fails once, quickly, with the reason
    filing = _failed(case, DocumentKind.FILING)
    assert filing.attempts == 1
    assert "篇幅超出上限" in filing.error and f"{settings.DOCUMENT_MAX_PAGES}页" in filing.error
    assert elapsed < 20  # no layout of a 1,000-page table
    assert HistoryEntry.objects.filter(case=case, action="document_failed").count() == 1
    assert Document.objects.get(case=case, kind=DocumentKind.FEEDBACK).status == DocumentStatus.READY


@override_settings(DOCUMENT_MAX_PAGES=1)
def test_a_document_longer_than_the_page_limit_fails_after_layout_once_and_admins_are_told(
        world, django_capture_on_commit_callbacks):
    case = drive_to_proposed(world)

    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case)

    filing = _failed(case, DocumentKind.FILING)
    assert filing.attempts == 1 and "超过允许的1页" in filing.error
    notices = Notification.objects.filter(case=case, user__is_superuser=True)
    assert notices.exists() and all("文书生成失败" in n.text and case.reference in n.text for n in notices)
    assert not Notification.objects.filter(case=case, user__is_superuser=False, text__startswith="文书生成失败")


def test_document_task_has_soft_and_hard_time_limits_and_bounded_retries():
    task = tasks.document_generate

    assert task.soft_time_limit == settings.DOCUMENT_SOFT_TIME_LIMIT
    assert task.time_limit == settings.DOCUMENT_TIME_LIMIT > task.soft_time_limit
    assert task.max_retries is not None and task.acks_late and task.reject_on_worker_lost
    assert settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD > 0


def test_a_rendering_over_the_soft_time_limit_fails_without_retrying(decided, world, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        doc = services.document_regenerate(case=decided, kind=DocumentKind.FEEDBACK, reason="更正职务",
                                           actor=actor(world, "inspector"))

    def slow(document):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services.documents, "document_render", slow)
    retried = []
    monkeypatch.setattr(tasks.document_generate, "retry", lambda *a, **k: retried.append(k))

    tasks.document_generate.apply(args=[doc.pk])

    doc.refresh_from_db()
    assert doc.status == DocumentStatus.FAILED and "生成超时" in doc.error and doc.attempts == 1
    assert retried == []


def test_a_document_redelivered_too_often_is_failed_instead_of_rendered_again(decided, world,
                                                                              django_capture_on_commit_callbacks):
    # Given a reissue whose earlier deliveries all died (e.g. workers killed at the hard time limit)
    with django_capture_on_commit_callbacks(execute=False):
        doc = services.document_regenerate(case=decided, kind=DocumentKind.FEEDBACK, reason="更正职务",
                                           actor=actor(world, "inspector"))
    Document.objects.filter(pk=doc.pk).update(attempts=settings.DOCUMENT_MAX_ATTEMPTS, claim_task="dead-task")

    # When the broker delivers it once more
    services.document_generate(document_id=doc.pk, task_id="dead-task")

    # Then it is failed, not rendered, and the administrators hear of it
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.FAILED and not doc.file
    assert doc.attempts == settings.DOCUMENT_MAX_ATTEMPTS and "不再重试" in doc.error
    assert Notification.objects.filter(case=decided, user__is_superuser=True, text__contains="第2版").exists()
