"""The decision date is the first decision's meeting date: in the register page, its XLSX, the API and the PDFs."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import zipfile

import pytest
from django.apps import apps
from django.utils import timezone
from openpyxl import load_workbook

from cases.models import Case
from reports.models import Document, DocumentKind
from tests.reports.conftest import actor, drive_to_proposed, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_late(world, monkeypatch, django_capture_on_commit_callbacks):
    """Given a case prepared ten days ago, decided at a meeting three days ago and recorded today."""
    from workflow import services

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - dt.timedelta(days=10))
    case = drive_to_proposed(world)
    monkeypatch.setattr(timezone, "now", real_now)
    meeting = timezone.localdate() - dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decide(
            case_id=case.pk, actor=actor(world, "committee"), outcome="exempt", meeting_kind="standing",
            meeting_date=meeting, members_present=9, members_total=11, resolution="经市委常委会集体研究，同意。",
        )
    case.refresh_from_db()
    return case, meeting


def test_the_case_carries_the_meeting_date_not_the_recording_date(decided_late):
    case, meeting = decided_late

    assert case.decision_date == meeting
    assert timezone.localdate(case.decided_at) == meeting + dt.timedelta(days=3)


def test_both_pdfs_print_the_meeting_date(decided_late):
    case, meeting = decided_late
    printed = f"{meeting.year}年{meeting.month}月{meeting.day}日"

    for kind in (DocumentKind.FEEDBACK, DocumentKind.FILING):
        text = pdf_text(Document.objects.get(case=case, kind=kind).file.path)
        assert printed in text, kind


def printed_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_register_page_shows_and_filters_by_the_meeting_date(decided_late, client, world):
    case, meeting = decided_late
    client.force_login(world.users["orgdept"])

    on_the_day = client.get("/filings/", {"from": meeting.isoformat(), "to": meeting.isoformat()}).content.decode()
    since_recording = client.get("/filings/", {"from": (meeting + dt.timedelta(days=1)).isoformat()}).content.decode()

    assert case.reference in on_the_day and f'<td data-label="决定日期">{printed_date(meeting)}</td>' in on_the_day
    assert case.reference not in since_recording


def test_api_gives_and_filters_by_the_meeting_date(decided_late, api):
    case, meeting = decided_late
    client = api("orgdept")

    rows = client.get("/api/filings/", {"from": meeting.isoformat(), "to": meeting.isoformat()}).json()["results"]
    later = client.get("/api/filings/", {"from": (meeting + dt.timedelta(days=1)).isoformat()}).json()["results"]

    assert [(r["case"], r["decision_date"]) for r in rows] == [(case.pk, meeting.isoformat())]
    assert later == []


def test_export_xlsx_lists_the_meeting_date_and_takes_cases_by_it(decided_late, api,
                                                                     django_capture_on_commit_callbacks):
    case, meeting = decided_late
    client = api("orgdept")

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/filings/export/", {"from": meeting.isoformat(), "to": meeting.isoformat()},
                              format="json")
    job = client.get(f"/api/jobs/{created.json()['job']}/").json()
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(job["download_url"]).streaming_content)))
    sheet = load_workbook(io.BytesIO(archive.read("备案登记.xlsx"))).active
    header = [c.value for c in sheet[2]]

    assert job["status"] == "ready" and job["total"] == 1
    assert sheet.cell(row=3, column=2).value == case.reference
    assert sheet.cell(row=3, column=header.index("决定日期") + 1).value.date() == meeting  # an Excel date


def test_cursor_pages_through_cases_sharing_a_meeting_date_without_repeats(decided_late, api, world,
                                                                            django_capture_on_commit_callbacks):
    first, meeting = decided_late
    from tests.reports.conftest import decide

    others = []
    for title in ("第二件：防汛抢险中先行调用物资", "第三件：疫情防控中先行采购"):
        case = drive_to_proposed(world, title=title)
        with django_capture_on_commit_callbacks(execute=True):
            decide(world, case)
        others.append(case)
    Case.objects.filter(pk__in=[c.pk for c in others]).update(decision_date=meeting)
    client = api("orgdept")

    pages = [client.get("/api/filings/", {"page_size": 1}).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    back = client.get(pages[-1]["previous"]).json()

    assert [r["case"] for p in pages for r in p["results"]] == sorted([first.pk, *(c.pk for c in others)],
                                                                       reverse=True)
    assert back["results"] == pages[-2]["results"]


def test_backfill_takes_the_first_decisions_meeting_date(decided_late):
    case, meeting = decided_late
    Case.objects.filter(pk=case.pk).update(decision_date=None)
    migration = importlib.import_module("cases.migrations.0005_case_decision_date")

    migration.backfill(apps, None)

    assert Case.objects.get(pk=case.pk).decision_date == meeting
