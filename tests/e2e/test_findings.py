"""The findings tab in the browser: no clause defaults to 符合, typed text survives another clause's save,
and every limited textarea counts its characters."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case, Finding
from rules.loader import registry

from .conftest import Site
from .helpers import actor, clause_title, open_tab, seed_application

pytestmark = pytest.mark.e2e


def _investigating(site: Site) -> Case:
    from workflow import services

    case = seed_application(site.world)
    services.case_investigate(case_id=case.pk, actor=actor(site.world, "inspector"))
    case.refresh_from_db()
    return case


def _findings_tab(site: Site, case: Case):  # noqa: ANN202 - (Page, Locator)
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=findings")
    return page, page.locator("#evaluation-panel")


def test_an_unrecorded_exclusion_is_not_saved_as_met_by_a_careless_click(site: Site) -> None:
    case = _investigating(site)
    exclusion = registry().version_for(case.ruleset, case.conduct_date).exclusions()[0].id
    page, panel = _findings_tab(site, case)
    clause = panel.locator(f"[id='clause-{exclusion}']")

    status = clause.get_by_label(f"{clause_title(exclusion)} 认定")
    expect(status).to_have_value("")
    expect(status.locator("option:checked")).to_have_text("请选择")
    expect(clause.locator(".clause-head")).to_contain_text("待查明（未记录认定）")

    clause.get_by_role("button", name="保存认定").click()  # the browser asks for a choice first
    assert status.evaluate("s => s.validity.valueMissing") is True
    page.wait_for_timeout(300)
    assert not Finding.objects.filter(case=case).exists()
    expect(panel.locator(".verdict")).not_to_contain_text("不予容错")


def test_saving_one_clause_keeps_what_was_typed_in_another(site: Site) -> None:
    case = _investigating(site)
    version = registry().version_for(case.ruleset, case.conduct_date)
    a, b = version.prerequisites()[0].id, version.exclusions()[0].id
    page, panel = _findings_tab(site, case)
    clause_a, clause_b = panel.locator(f"[id='clause-{a}']"), panel.locator(f"[id='clause-{b}']")

    clause_a.get_by_label(f"{clause_title(a)} 认定").select_option("met")
    clause_a.get_by_label(f"{clause_title(a)} 理由").fill("会议纪要显示系集体研究，尚未保存。")
    clause_b.get_by_label(f"{clause_title(b)} 认定").select_option("not_met")
    clause_b.get_by_label(f"{clause_title(b)} 理由").fill("经核实，未发现谋取私利。")
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{case.pk}/evaluation/")):
        clause_b.get_by_role("button", name="保存认定").click()

    expect(clause_b.locator(".clause-head")).to_contain_text("不符合")  # the evaluation has been refreshed
    expect(clause_a.get_by_label(f"{clause_title(a)} 理由")).to_have_value("会议纪要显示系集体研究，尚未保存。")
    expect(clause_a.get_by_label(f"{clause_title(a)} 认定")).to_have_value("met")
    expect(clause_b.locator("[data-result]")).to_have_text("已保存")
    expect(clause_b.locator(".clause-head")).to_contain_text("已认定：不符合")
    expect(clause_a.locator(".clause-head")).to_contain_text("待查明（未记录认定）")
    finding = Finding.objects.get(case=case)
    assert (finding.clause_id, finding.status, finding.reasoning) == (b, "not_met", "经核实，未发现谋取私利。")


def test_limited_textareas_show_a_live_character_count(site: Site) -> None:
    case = _investigating(site)
    first = registry().version_for(case.ruleset, case.conduct_date).prerequisites()[0].id
    page, panel = _findings_tab(site, case)
    reasoning = panel.get_by_label(f"{clause_title(first)} 理由")
    counter = panel.locator(f"[id='rs-{first}-count']")

    expect(counter).to_be_visible()
    expect(counter).to_have_text("已输入 0 / 5000 字")
    reasoning.fill("经调取会议纪要")
    expect(counter).to_have_text("已输入 7 / 5000 字")
    assert reasoning.get_attribute("aria-describedby") == f"rs-{first}-count"

    open_tab(page, "基本情况")  # the participant's opinion, from the same limits
    expect(page.locator("[id='id_participant_opinion-count']")).to_have_text("已输入 0 / 5000 字")
