"""The verification address printed in documents: SITE_URL, else the serving address, never a dead link."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from reports import services
from reports.contexts import DEVELOPMENT_SITE_URL, site_url, verify_url
from reports.middleware import RequestOriginMiddleware
from reports.models import Document, DocumentKind, DocumentStatus
from tests.reports.conftest import actor, decide, drive_to_proposed, pdf_text
from workflow.models import HistoryEntry

pytestmark = pytest.mark.django_db


@override_settings(SITE_URL="https://rc.example.gov.cn/")
def test_site_url_when_set_is_used_as_given():
    doc = Document(token="abc")

    assert verify_url(doc) == "https://rc.example.gov.cn/verify/abc/"


@override_settings(SITE_URL="", SITE_URL_FROM_REQUEST=True)
def test_development_without_site_url_uses_the_address_the_request_came_to(decided, world,
                                                                           django_capture_on_commit_callbacks):
    # Given a reissue queued (not yet rendered) and a server answering on port 8001
    with django_capture_on_commit_callbacks(execute=False):
        pending = services.document_regenerate(case=decided, kind=DocumentKind.FEEDBACK, reason="更正职务",
                                               actor=actor(world, "inspector"))
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8001")

    # When it is rendered during that request
    def render(_request):
        services.document_generate(document_id=pending.pk)
        return None

    RequestOriginMiddleware(render)(request)

    # Then the letter (and its QR code) points at port 8001; outside a request, runserver's default
    pending.refresh_from_db()
    assert pending.status == DocumentStatus.READY
    assert f"127.0.0.1:8001/verify/{pending.token}/" in pdf_text(pending.file.path)
    assert site_url() == DEVELOPMENT_SITE_URL


@override_settings(SITE_URL="", SITE_URL_FROM_REQUEST=False)
def test_production_without_site_url_fails_the_documents_once_with_a_clear_message(
        world, django_capture_on_commit_callbacks):
    case = drive_to_proposed(world)

    with django_capture_on_commit_callbacks(execute=True):
        decide(world, case)

    docs = list(Document.objects.filter(case=case))
    assert {d.kind for d in docs} == {DocumentKind.FEEDBACK, DocumentKind.FILING}
    for doc in docs:
        assert doc.status == DocumentStatus.FAILED and not doc.file and doc.attempts == 1
        assert "SITE_URL" in doc.error and "不予生成" in doc.error
    assert HistoryEntry.objects.filter(case=case, action="document_failed").count() == 2
