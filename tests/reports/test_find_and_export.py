"""The filing register's filters and total, and the case list exported to XLSX through the export jobs."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import CaseState, Outcome
from reports.models import ExportJob, ExportKind
from reports.services import ruleset_label
from rules.loader import registry
from tests.factories import (
    CaseFactory,
    PersonFactory,
    case_in_state,
    handler_of,
    organ,
    orgdept_officer,
)
from workflow.models import HistoryEntry

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def register():
    """Three decided cases of one city (two exempt, one refused), and its organisation department."""
    wang = case_in_state(CaseState.DECIDED, subject=PersonFactory(name="王某"))
    unit = wang.subject.unit
    li = case_in_state(CaseState.DECIDED, subject=PersonFactory(name="李强", unit=unit))
    zhao = case_in_state(CaseState.DECIDED, outcome=Outcome.REFUSED, subject=PersonFactory(name="赵某", unit=unit))
    officer = orgdept_officer(organ(unit.parent, "orgdept"))
    return {"wang": wang, "li": li, "zhao": zhao, "officer": officer}


def filings(user, **params) -> list[str]:
    response = client_for(user).get("/api/filings/", params)
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


def test_the_register_api_filters_by_outcome_name_number_and_rule_set(register):
    officer, wang, li, zhao = register["officer"], register["wang"], register["li"], register["zhao"]

    assert filings(officer, outcome="refused") == [zhao.reference]
    assert set(filings(officer, outcome="exempt")) == {wang.reference, li.reference}
    assert filings(officer, q="李强") == [li.reference]
    assert filings(officer, q=wang.reference.removeprefix("容案")) == [wang.reference]
    assert len(filings(officer, ruleset=wang.ruleset)) == 3
    other = next(r for r in registry().ids() if r != wang.ruleset)
    assert filings(officer, ruleset=other) == []


def test_the_register_api_names_a_bad_filter(register):
    client = client_for(register["officer"])

    bad_outcome = client.get("/api/filings/", {"outcome": "pardoned"})
    bad_ruleset = client.get("/api/filings/", {"ruleset": "atlantis"})

    assert bad_outcome.status_code == 400 and "outcome" in bad_outcome.json()["errors"]
    assert bad_ruleset.status_code == 400 and "ruleset" in bad_ruleset.json()["errors"]


def test_the_register_page_shows_the_total_for_the_filter(register, client):
    client.force_login(register["officer"])
    today = register["wang"].decision_date.isoformat()

    everything = client.get("/filings/", {"from": today, "to": today}).content.decode()
    refused = client.get("/filings/", {"from": today, "to": today, "outcome": "refused"}).content.decode()
    by_name = client.get("/filings/", {"from": today, "to": today, "q": "王某"}).content.decode()
    bad = client.get("/filings/", {"from": today, "to": today, "ruleset": "atlantis"})

    assert 'data-total="3"' in everything
    assert 'data-total="1"' in refused and register["zhao"].reference in refused
    assert register["wang"].reference not in refused
    assert 'data-total="1"' in by_name and register["wang"].reference in by_name
    assert bad.status_code == 200 and "未知的适用规则：atlantis" in bad.content.decode()


# --- the case list to Excel ----------------------------------------------------------------------


def sheet_of(client, job_id: int):
    job = client.get(f"/api/jobs/{job_id}/").json()
    assert job["status"] == "ready", job
    response = client.get(job["download_url"])
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return job, load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_the_case_list_exports_with_its_filter_and_visibility(django_capture_on_commit_callbacks):
    wang = CaseFactory(subject=PersonFactory(name="王某"), title="汛期抢险先行调用物资被问责")
    li = CaseFactory(subject=PersonFactory(name="李强", unit=wang.subject.unit))
    elsewhere = CaseFactory(subject=PersonFactory(name="王某"))
    user = handler_of(wang)
    client = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/cases/export/", {"q": "王某"}, format="json")
    assert created.status_code == 202, created.content
    assert created.json()["kind"] == "cases" and created.json()["filters"] == {"q": "王某"}
    job, sheet = sheet_of(client, created.json()["id"])
    rows = list(sheet.iter_rows(values_only=True))

    header = list(rows[0])
    assert header[:4] == ["序号", "案件编号", "事项名称", "当事人"]
    assert [r[1] for r in rows[1:]] == [wang.reference]  # not 李强's, not the other city's 王某
    assert job["total"] == 1
    line = dict(zip(header, rows[1], strict=True))
    version, _ = registry().version_applying(wang.ruleset, wang.conduct_date)
    assert line["适用规则"] == ruleset_label(wang.ruleset, wang.conduct_date)
    assert version.title in line["适用规则"] and f"{version.effective_from.year}年" in line["适用规则"]
    assert wang.ruleset not in line["适用规则"]
    assert isinstance(line["行为发生日期"], dt.datetime) and line["行为发生日期"].date() == wang.conduct_date
    assert sheet.cell(row=2, column=header.index("行为发生日期") + 1).is_date
    assert HistoryEntry.objects.filter(action="case_list_export", actor=user).exists()
    assert HistoryEntry.objects.filter(action="case_list_export_download", actor=user).exists()
    assert li.reference and elsewhere.reference  # both exist; the filter and visibility left them out


def test_only_whoever_asked_may_read_or_download_a_case_list_export(django_capture_on_commit_callbacks):
    case = CaseFactory()
    client = client_for(handler_of(case))
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post("/api/cases/export/", {}, format="json").json()["id"]
    stranger = client_for(handler_of(CaseFactory()))

    assert stranger.get(f"/api/jobs/{job_id}/").status_code == 404
    assert stranger.get(f"/api/jobs/{job_id}/file/").status_code == 404


def test_a_bad_filter_is_refused_before_any_job_exists():
    case = CaseFactory()
    response = client_for(handler_of(case)).post("/api/cases/export/", {"from": "2026-13-45"}, format="json")

    assert response.status_code == 400
    assert not ExportJob.objects.filter(kind=ExportKind.CASES).exists()


def test_the_export_button_exports_the_list_as_filtered(client, django_capture_on_commit_callbacks):
    case = CaseFactory()
    client.force_login(handler_of(case))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cases/export/", {"q": case.reference, "state": "started"})
    assert response.status_code == 302 and response["Location"].endswith("/exports/")
    job = ExportJob.objects.get(kind=ExportKind.CASES)
    assert job.filters == {"q": case.reference, "state": "started"} and job.total == 1

    page = client.get("/exports/").content.decode()
    assert "检索：" + case.reference in page and "下载 Excel" in page


def test_a_filing_export_takes_the_registers_filters(register, django_capture_on_commit_callbacks):
    client = client_for(register["officer"])
    day = register["zhao"].decision_date.isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/filings/export/", {"from": day, "to": day, "outcome": "refused"}, format="json")
    bad = client.post("/api/filings/export/", {"from": day, "to": day, "ruleset": "atlantis"}, format="json")

    assert created.status_code == 202, created.content
    job = ExportJob.objects.get(pk=created.json()["id"])
    assert job.filters == {"outcome": "refused"} and job.case_ids == [register["zhao"].pk]
    assert bad.status_code == 400 and "ruleset" in bad.json()["errors"]


def test_text_that_looks_like_a_formula_stays_text(django_capture_on_commit_callbacks):
    case = CaseFactory(title="=HYPERLINK(\"http://example.invalid\",\"点此\")")
    client = client_for(handler_of(case))
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post("/api/cases/export/", {}, format="json").json()["id"]
    _, sheet = sheet_of(client, job_id)

    cell = sheet.cell(row=2, column=3)
    assert cell.value == case.title and cell.data_type == "s"
