"""The cadre's feedback PDF and the organisation department's filing register with its bulk export."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import zipfile

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from reports.models import Document, DocumentKind, DocumentStatus, ExportJob, ExportStatus
from rules.loader import registry
from workflow.models import HistoryEntry

from .conftest import ROOT, Site, screenshot
from .helpers import open_tab, seed_executed

pytestmark = pytest.mark.e2e

DOWNLOADS = ROOT / "test-artifacts" / "e2e-downloads"


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_cadre_downloads_the_written_feedback(site: Site) -> None:
    case = seed_executed(site.world)
    feedback = Document.objects.get(case=case, kind=DocumentKind.FEEDBACK, superseded=False)
    assert feedback.status == DocumentStatus.READY, feedback.error

    page = site.login("cadre")
    page.locator("section.card").filter(has_text=case.title).get_by_role("link", name=case.title).click()
    open_tab(page, "文书")
    row = page.locator("section[data-panel=documents] tr").filter(has_text="书面反馈")
    expect(row).to_contain_text(feedback.number)
    # The cadre sees what was sent to them, not the internal filing form.
    expect(page.locator("section[data-panel=documents]")).not_to_contain_text("备案")
    link = row.get_by_role("link", name="下载")
    assert link.count() == 1, "no 下载 link for the feedback letter on the 文书 tab"
    with page.expect_download() as info:
        link.click()
    download = info.value
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / "feedback.pdf"
    download.save_as(target)
    assert download.suggested_filename.endswith(".pdf")
    assert target.read_bytes()[:5] == b"%PDF-"
    text = _pdf_text(target)
    assert "王某" in text and "免责" in text and feedback.number in text.replace(" ", "")
    entry = HistoryEntry.objects.filter(case=case, action="document_download").get()
    assert (entry.actor, entry.changes["kind"]) == (site.world.users["cadre"], DocumentKind.FEEDBACK)


def test_orgdept_filters_the_filing_register_and_exports_a_period(site: Site) -> None:
    first = seed_executed(site.world, title="环境执法中先行查封偷排企业被问责")
    second = seed_executed(site.world, username="cadre2", title="水质监测数据报送延误")
    filings = {c.pk: Document.objects.get(case=c, kind=DocumentKind.FILING, superseded=False) for c in (first, second)}
    assert {d.status for d in filings.values()} == {DocumentStatus.READY}

    page = site.login("orgdept")
    nav = page.locator("nav.mainnav").get_by_role("link", name="备案登记")
    assert nav.count() == 1, "no 备案登记 link in the main navigation"
    nav.click()
    expect(page.locator("h1")).to_have_text("容错纠错备案登记")
    today = timezone.localdate()
    page.get_by_label("决定日期起").fill((today - dt.timedelta(days=7)).isoformat())
    page.get_by_label("止").fill(today.isoformat())
    page.get_by_role("button", name="查询").click()
    table = page.locator("table").last
    for case in (first, second):
        row = table.locator("tr").filter(has_text=case.reference)
        expect(row).to_contain_text(case.subject.name)
        expect(row).to_contain_text("免责")
        expect(row.get_by_role("link", name=filings[case.pk].number)).to_be_visible()
    screenshot(page, "orgdept-filings")

    # A period with no decisions shows none.
    page.get_by_label("决定日期起").fill((today - dt.timedelta(days=400)).isoformat())
    page.get_by_label("止").fill((today - dt.timedelta(days=300)).isoformat())
    page.get_by_role("button", name="查询").click()
    expect(table).to_contain_text("本期没有备案案件。")
    page.go_back()

    # The per-case filing PDF.
    href = table.get_by_role("link", name=filings[first.pk].number).get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    # The bulk export: queued, progress shown, then the archive.
    page.get_by_role("button", name="导出本期备案材料").click()
    expect(page.locator("ul.messages")).to_contain_text("已开始导出")
    job_box = page.locator(".export-job").first
    expect(job_box.locator("progress")).to_be_attached()
    link = job_box.locator("a.download")
    expect(link).to_be_visible()
    expect(job_box.locator("progress")).to_have_attribute("value", "100")
    job = ExportJob.objects.get(requested_by=site.world.users["orgdept"])
    assert job.status == ExportStatus.READY
    with page.expect_download() as info:
        link.click()
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / "filings.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        register = next(n for n in names if n.endswith(".xlsx"))
        sheet = load_workbook(io.BytesIO(archive.read(register))).active
    assert sum(n.endswith(".pdf") for n in names) == 2
    # The register names each case's rule set by its Chinese title and version date, never by its id.
    title, header = (list(r) for r in sheet.iter_rows(max_row=2, values_only=True))
    assert title[0].startswith("容错纠错备案登记（") and "年" in title[0]
    column = header.index("适用规则")
    titles = tuple(registry().version_applying(c.ruleset, c.conduct_date)[0].title for c in (first, second))
    cells = [row[column] for row in sheet.iter_rows(min_row=3, values_only=True) if any(row)]
    assert len(cells) == 2 and all(cell.startswith(titles) for cell in cells)
    assert not any(c.ruleset in cell for c in (first, second) for cell in cells)
    assert HistoryEntry.objects.filter(action="filing_export_download", actor=site.world.users["orgdept"]).exists()
