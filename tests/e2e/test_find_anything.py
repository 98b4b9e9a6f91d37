"""Find anything: the inbox's one search box (case number, a two-character name), the filing register's
filters with their total, and the current case list exported to Excel and opened."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from reports.models import ExportJob, ExportKind, ExportStatus
from rules.loader import registry

from .conftest import ROOT, Site, screenshot
from .helpers import seed_application, seed_executed

pytestmark = pytest.mark.e2e

DOWNLOADS = ROOT / "test-artifacts" / "e2e-downloads"


def test_inspector_finds_a_case_by_number_and_by_name_and_exports_the_list(site: Site) -> None:
    wang = seed_application(site.world, username="cadre", title="环境执法中先行查封偷排企业被问责")
    li = seed_application(site.world, username="cadre2", title="招商引资中先行作出政策承诺被问责")

    page = site.login("inspector")
    table = page.get_by_role("table", name="案件列表")
    expect(table).to_contain_text(wang.reference)
    expect(table).to_contain_text(li.reference)

    # The number as people say it, without the 容案 prefix.
    page.get_by_label("检索").fill(li.reference.removeprefix("容案"))
    page.get_by_role("button", name="筛选").click()
    expect(table).to_contain_text(li.title)
    expect(table).not_to_contain_text(wang.title)

    # A two-character name.
    page.get_by_label("检索").fill("王某")
    page.get_by_role("button", name="筛选").click()
    expect(table).to_contain_text(wang.reference)
    expect(table).not_to_contain_text(li.reference)
    expect(page.locator("form.list-export")).to_contain_text("共 1 件")
    screenshot(page, "inspector-search")

    # Export what is shown: the page follows the job's progress and offers the file when ready.
    page.get_by_role("button", name="导出 Excel").click()
    expect(page.locator("ul.messages")).to_contain_text("已开始导出案件清单")
    job_box = page.locator(".export-job").first
    expect(job_box).to_contain_text("检索：王某")
    link = job_box.locator("a.download")
    expect(link).to_be_visible()
    expect(job_box.locator("progress")).to_have_attribute("value", "100")
    screenshot(page, "inspector-export")
    job = ExportJob.objects.get(requested_by=site.world.users["inspector"], kind=ExportKind.CASES)
    assert job.status == ExportStatus.READY and job.filters == {"q": "王某"}
    with page.expect_download() as info:
        link.click()
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / "cases.xlsx"
    info.value.save_as(target)
    assert info.value.suggested_filename.endswith(".xlsx")

    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:6] == ["序号", "案件编号", "事项名称", "当事人", "当事人类别", "所在单位"]
    assert len(rows) == 2
    line = dict(zip(header, rows[1], strict=True))
    assert line["案件编号"] == wang.reference and line["当事人"] == "王某"
    version, _ = registry().version_applying(wang.ruleset, wang.conduct_date)
    assert line["适用规则"].startswith(version.title)
    assert f"{version.effective_from.year}年{version.effective_from.month}月{version.effective_from.day}日" in line["适用规则"]
    assert isinstance(line["行为发生日期"], dt.datetime) and line["行为发生日期"].date() == wang.conduct_date
    assert sheet.cell(row=2, column=header.index("创建日期") + 1).is_date


def test_orgdept_filters_the_register_and_sees_the_total(site: Site) -> None:
    wang = seed_executed(site.world, username="cadre", tolerable=True, title="环境执法中先行查封偷排企业被问责")
    li = seed_executed(site.world, username="cadre2", tolerable=False, title="招商引资中先行作出政策承诺被问责")

    page = site.login("orgdept")
    page.goto("/filings/")
    table = page.locator("table.table")
    total = page.locator(".register-total")
    expect(total).to_contain_text("共 2 件")

    page.get_by_label("结论").select_option(label="不予容错")
    page.get_by_role("button", name="查询").click()
    expect(total).to_contain_text("共 1 件")
    expect(table).to_contain_text(li.reference)
    expect(table).not_to_contain_text(wang.reference)

    page.get_by_label("结论").select_option(value="")
    page.get_by_label("检索").fill(wang.reference)
    page.get_by_role("button", name="查询").click()
    expect(total).to_contain_text("共 1 件")
    expect(table).to_contain_text(wang.reference)
    expect(table).not_to_contain_text(li.reference)

    page.get_by_label("检索").fill("")
    page.get_by_label("适用规则").select_option(value=wang.ruleset)
    page.get_by_role("button", name="查询").click()
    expect(total).to_contain_text("共 2 件")
    screenshot(page, "orgdept-register-filtered")
