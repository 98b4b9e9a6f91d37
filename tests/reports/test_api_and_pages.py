"""The documents API, downloads and their audit, the filing register, exports and verification."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports.models import Document, DocumentKind, ExportJob
from tests.reports.conftest import decide, drive_to_proposed
from workflow.models import HistoryEntry

pytestmark = pytest.mark.django_db


def test_documents_api_lists_ready_documents_with_download_links(decided, api):
    response = api("inspector").get(f"/api/cases/{decided.pk}/documents/")

    assert response.status_code == 200
    rows = {r["kind"]: r for r in response.json()}
    assert set(rows) == {"feedback", "filing"}
    feedback = rows["feedback"]
    assert feedback["status"] == "ready" and feedback["version"] == 1 and len(feedback["sha256"]) == 64
    assert feedback["number"].startswith("张纪容〔")
    assert feedback["download_url"].endswith(f"/documents/{feedback['id']}/file/")
    assert {"id", "kind", "number", "version", "status", "sha256", "created_at", "download_url"} <= set(feedback)


def test_cadre_sees_the_feedback_but_never_the_filing_report(decided, api):
    client = api("cadre")
    kinds = [r["kind"] for r in client.get(f"/api/cases/{decided.pk}/documents/").json()]
    filing = Document.objects.get(case=decided, kind=DocumentKind.FILING)

    assert kinds == ["feedback"]
    assert client.get(f"/api/cases/{decided.pk}/documents/{filing.pk}/file/").status_code == 404


def test_another_cadre_cannot_see_the_case_or_its_documents(decided, api):
    feedback = Document.objects.get(case=decided, kind=DocumentKind.FEEDBACK)
    client = api("cadre2")

    assert client.get(f"/api/cases/{decided.pk}/documents/").status_code == 404
    assert client.get(f"/api/cases/{decided.pk}/documents/{feedback.pk}/file/").status_code == 404
    assert not HistoryEntry.objects.filter(action="document_download").exists()


def test_download_returns_the_pdf_and_is_audited(decided, api, world):
    feedback = Document.objects.get(case=decided, kind=DocumentKind.FEEDBACK)

    response = api("cadre").get(f"/api/cases/{decided.pk}/documents/{feedback.pk}/file/")

    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body.startswith(b"%PDF")
    entry = HistoryEntry.objects.get(case=decided, action="document_download")
    assert entry.actor == world.users["cadre"]
    assert entry.changes["sha256"] == feedback.sha256 and entry.changes["version"] == 1


def test_page_download_and_case_page_list_documents(decided, client, world):
    client.force_login(world.users["inspector"])
    page = client.get(f"/cases/{decided.pk}/?tab=documents")
    feedback = Document.objects.get(case=decided, kind=DocumentKind.FEEDBACK)

    html = page.content.decode()
    assert page.status_code == 200
    assert "容错认定结论书面反馈" in html and feedback.number in html and f"/documents/{feedback.pk}/" in html
    response = client.get(f"/documents/{feedback.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert HistoryEntry.objects.filter(case=decided, action="document_download", via="web").exists()


def test_filings_api_for_organisation_department(decided, api, world):
    today = timezone.localdate().isoformat()

    rows = api("orgdept").get("/api/filings/", {"from": today, "to": today}).json()["results"]

    assert [r["case"] for r in rows] == [decided.pk]
    assert rows[0]["filing"]["status"] == "ready" and rows[0]["person"] == "王某"
    narrowed = api("orgdept").get("/api/filings/", {"organisation": world.orgs["zz"].pk}).json()
    assert narrowed["results"] == [] and narrowed["next"] is None


def test_filings_api_pages_with_a_cursor_newest_decision_first(decided, api, world, django_capture_on_commit_callbacks):
    second = drive_to_proposed(world, title="第二件：防汛抢险中先行调用物资")
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, second)
    client = api("orgdept")

    first_page = client.get("/api/filings/", {"page_size": 1}).json()
    second_page = client.get(first_page["next"]).json()

    assert [r["case"] for r in first_page["results"]] == [second.pk]
    assert [r["case"] for r in second_page["results"]] == [decided.pk]
    assert second_page["next"] is None and second_page["previous"]
    bad = client.get("/api/filings/", {"cursor": "not-a-cursor"})
    assert bad.status_code == 404 and "翻页游标无效" in bad.json()["detail"]
    # Well-formed cursors with a forged position, including dates that overflow when shifted to UTC.
    for position in ("garbage", "2026-13-45 99:00:00", "0001-01-01", "9999-12-31T23:59:59-12:00"):
        forged = base64.b64encode(f"p={position}".encode()).decode()
        for url in ("/api/filings/", "/api/cases/"):
            response = client.get(url, {"cursor": forged})
            assert response.status_code == 404 and "翻页游标无效" in response.json()["detail"], (url, position)


def test_filings_api_rejects_bad_periods_and_other_roles(decided, api):
    bad = api("orgdept").get("/api/filings/", {"from": "2026-05-01", "to": "2026-01-01"})
    assert bad.status_code == 400 and bad.json()["field"] == "from"
    assert api("orgdept").get("/api/filings/", {"from": "yesterday"}).json()["field"] == "from"
    assert api("cadre").get("/api/filings/").status_code == 403
    assert api("inspector").post("/api/filings/export/", {"from": "2026-01-01", "to": "2026-12-31"},
                                 format="json").status_code == 403
    assert not ExportJob.objects.exists()


def test_export_builds_zip_with_pdfs_register_and_manifest(decided, api, world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    client = api("orgdept")

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/filings/export/", {"from": (today - dt.timedelta(days=30)).isoformat(),
                                                        "to": today.isoformat()}, format="json")
    assert created.status_code == 202, created.json()
    job = client.get(f"/api/jobs/{created.json()['job']}/").json()
    assert job["status"] == "ready" and job["progress"] == 100

    response = client.get(job["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    import hashlib

    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == entry["sha256"]
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 1 and archive.read(pdfs[0]).startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(archive.read("备案登记.xlsx"))).active
    assert sheet.cell(row=3, column=3).value == "王某"
    assert HistoryEntry.objects.filter(action="filing_export", actor=world.users["orgdept"]).exists()
    assert HistoryEntry.objects.filter(action="filing_export_download").exists()
    assert api("admin").get(f"/api/jobs/{job['id']}/").status_code == 200
    assert api("inspector").get(f"/api/jobs/{job['id']}/").status_code == 404


def test_export_requires_dates(api, world):
    response = api("orgdept").post("/api/filings/export/", {"to": "2026-01-01"}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "from"


def test_filing_register_page_shows_cases_and_poll_target(decided, client, world):
    client.force_login(world.users["orgdept"])
    html = client.get("/filings/").content.decode()
    assert "备案登记" in html and "王某" in html and "导出本期备案材料" in html

    client.post("/filings/export/", {"from": "2026-01-01", "to": timezone.localdate().isoformat()})
    job = ExportJob.objects.get()
    html = client.get("/filings/").content.decode()
    assert f'data-poll="/jobs/{job.pk}/"' in html and "<progress" in html
    status = client.get(f"/jobs/{job.pk}/").json()
    assert {"status", "status_label", "progress", "download_url"} <= set(status)


def test_filing_register_page_refuses_cadres(client, world):
    client.force_login(world.users["cadre"])
    assert client.get("/filings/").status_code == 403


def test_verification_page_is_public_and_says_genuine_and_current(decided, client, world):
    feedback = Document.objects.get(case=decided, kind=DocumentKind.FEEDBACK)

    public = client.get(f"/verify/{feedback.token}/").content.decode()
    assert "真实" in public and "现行有效" in public and "王某" not in public

    client.force_login(world.users["inspector"])
    detail = client.get(f"/verify/{feedback.sha256}/").content.decode()
    assert feedback.number in detail and feedback.sha256 in detail


def test_document_records_the_sm3_of_its_pdf_and_the_verification_page_shows_it(decided, client, world):
    feedback = Document.objects.get(case=decided, kind=DocumentKind.FEEDBACK)
    content = feedback.file.read()
    assert feedback.sm3 == hashlib.new("sm3", content).hexdigest()
    assert feedback.sha256 == hashlib.sha256(content).hexdigest() != feedback.sm3

    client.force_login(world.users["inspector"])
    detail = client.get(f"/verify/{feedback.token}/").content.decode()
    assert "SM3" in detail and feedback.sm3 in detail

    assert client.get("/verify/not-a-real-token/").status_code == 404


def test_api_pages_with_cursors_by_default_and_the_register_schema_shows_the_cursor_page():
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.pagination import CursorPagination
    from rest_framework.settings import api_settings

    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert issubclass(api_settings.DEFAULT_PAGINATION_CLASS, CursorPagination)
    page = schema["paths"]["/api/filings/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"next", "previous", "results"}  # no count: keyset pages
    assert component["properties"]["results"]["items"]["$ref"].endswith("/FilingOutput")
