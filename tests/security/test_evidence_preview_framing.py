"""The evidence preview: the case page frames the evidence file from its own origin, so that one route (and
only it) may be framed by the same origin; every other page stays unframeable by anyone."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import actor, case_in_state, handler_of
from workflow import services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def evidence(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case = case_in_state("investigating")
    handler = handler_of(case)
    item = services.evidence_add(case_id=case.pk, actor=actor(handler),
                                 upload=SimpleUploadedFile("会议纪要.pdf", PDF, content_type="application/pdf"))
    return case, handler, item


def test_evidence_file_may_be_framed_by_the_same_origin_only(evidence):
    case, handler, item = evidence
    client = Client()
    client.force_login(handler)
    response = client.get(f"/cases/{case.pk}/evidence/{item.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "frame-ancestors 'none'" not in csp
    # Shown in place, not downloaded; ?download=1 still downloads.
    assert response["Content-Disposition"].startswith("inline")
    assert client.get(f"/cases/{case.pk}/evidence/{item.pk}/?download=1")["Content-Disposition"].startswith(
        "attachment")


def test_the_case_page_itself_stays_unframeable(evidence):
    case, handler, _item = evidence
    client = Client()
    client.force_login(handler)
    response = client.get(f"/cases/{case.pk}/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_case_page_holds_previews_unloaded_until_opened(evidence):
    """The preview frame carries its address in data-preview-src and has no src: nothing loads until opened."""
    case, handler, item = evidence
    client = Client()
    client.force_login(handler)
    html = client.get(f"/cases/{case.pk}/?tab=evidence").content.decode()
    address = f"/cases/{case.pk}/evidence/{item.pk}/"
    assert f'data-preview-src="{address}"' in html
    assert f'src="{address}"' not in html.replace(f'data-preview-src="{address}"', "")
