"""What every user has: the rule-set browser, pages readable on a phone, labelled controls with unique ids."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rules.loader import registry

from .conftest import Site, screenshot
from .helpers import (
    action_form,
    clause_title,
    control,
    open_tab,
    seed_application,
    seed_executed,
    seed_proposed,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
    .filter(el => el.type !== "hidden" && !el.closest("[hidden]"))
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !el.getAttribute("aria-labelledby"))
    .map(el => el.outerHTML.slice(0, 120))"""
DUPLICATE_IDS = """() => {
    const seen = {};
    document.querySelectorAll("[id]").forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
    return Object.entries(seen).filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`);
}"""


def _fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"


def test_rule_browser_lists_the_rule_sets_with_their_clauses(site: Site) -> None:
    page = site.login("cadre")
    page.locator("nav.mainnav").get_by_role("link", name="容错规则").click()
    expect(page.locator("h1")).to_have_text("容错规则集")
    version = registry().version_for("zhangjiakou", "2025-01-01")
    table = page.locator("table")
    expect(table).to_contain_text(version.title)
    expect(table.locator("tbody tr")).to_have_count(len(registry().ids()))
    screenshot(page, "rules")
    table.get_by_role("link", name=version.title).click()
    clause = version.prerequisites()[0]
    expect(page.locator("main")).to_contain_text(clause.citation)
    expect(page.locator("main")).to_contain_text(clause.text[:30])


def test_cadre_pages_are_readable_on_a_phone(site: Site) -> None:
    case = seed_executed(site.world)
    page = site.login("cadre", **PHONE)
    expect(page.locator("h1")).to_have_text("我的案件")
    expect(page.locator("section.card").filter(has_text=case.title)).to_contain_text("已送达书面反馈。")
    _fits_the_screen(page)
    page.goto(f"/cases/{case.pk}/")
    _fits_the_screen(page)
    page.goto("/apply/")
    _fits_the_screen(page)
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p, main label')).fontSize)")
    assert font >= 14, f"body text is {font}px on a phone"


def test_inspector_and_committee_pages_fit_a_phone(site: Site) -> None:
    case = seed_proposed(site.world)
    inspector = site.login("inspector", **PHONE)
    _fits_the_screen(inspector)  # the case table scrolls inside its own box
    committee = site.login("committee", **PHONE)
    committee.goto(f"/cases/{case.pk}/review/")
    _fits_the_screen(committee)
    # On a narrow screen the decision form follows the proposal instead of squeezing beside it.
    grid = committee.locator(".review-grid > div")
    assert grid.nth(1).bounding_box()["y"] > grid.nth(0).bounding_box()["y"]


@pytest.mark.parametrize("who", ["inspector", "committee", "cadre"])
def test_every_control_has_a_label(site: Site, who: str) -> None:
    case = seed_application(site.world) if who != "committee" else seed_proposed(site.world)
    page = site.login(who)
    # The inspector's case page is covered by test_case_page_ids_are_unique (duplicate ids break labels).
    pages = {"inspector": ["/", "/cases/new/"], "committee": ["/", f"/cases/{case.pk}/review/"],
             "cadre": ["/", "/apply/", f"/cases/{case.pk}/"]}[who]
    for url in pages:
        page.goto(url)
        for tab in page.locator("nav.tabs a").all():
            tab.click()
            assert page.evaluate(UNLABELLED) == [], f"{url} ({tab.inner_text()}): controls without a label"
        assert page.evaluate(UNLABELLED) == [], f"{url}: controls without a label"


def test_case_page_ids_are_unique(site: Site) -> None:
    case = seed_application(site.world)
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=actions")
    action_form(page, "investigate").get_by_role("button", name="开始调查").click()
    expect(page.locator("ul.messages")).to_contain_text("已完成：开始调查")
    assert page.evaluate(DUPLICATE_IDS) == []
    open_tab(page, "办理（")
    assert page.evaluate(UNLABELLED) == []


def test_proposing_right_after_inline_findings_is_not_reported_as_stale(site: Site) -> None:
    from cases.models import CaseState

    case = seed_proposed(site.world)
    from workflow import services

    from .helpers import actor

    services.case_send_back(case_id=case.pk, actor=actor(site.world, "committee"), reason="请补充第三方鉴定材料。")
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=findings")
    clause_id = registry().version_for(case.ruleset, case.conduct_date).prerequisites()[0].id
    clause = page.locator(f"[id='clause-{clause_id}']")
    clause.get_by_label(f"{clause_title(clause_id)} 理由").fill("补充调取第三方鉴定报告，核实无误。")
    with page.expect_response(lambda r: r.url.endswith("/evaluation/")):
        clause.get_by_role("button", name="保存认定").click()
    open_tab(page, "办理（")
    form = action_form(page, "propose")
    control(form, "建议结论").select_option(label="免责")
    control(form, "初步意见").fill("已补充鉴定材料，建议予以免责。")
    form.get_by_role("button", name="提出初步建议").click()
    expect(page.locator("ul.messages")).to_contain_text("已完成：提出初步建议", timeout=3000)
    case.refresh_from_db()
    assert case.state == CaseState.PROPOSED


def test_a_rejected_action_on_the_case_page_shows_its_error(site: Site) -> None:
    from workflow import services

    from .helpers import actor, field_of

    case = seed_application(site.world)
    services.case_investigate(case_id=case.pk, actor=actor(site.world, "inspector"))
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=actions")
    form = action_form(page, "propose")
    control(form, "建议结论").select_option(label="免责")
    form.get_by_role("button", name="提出初步建议").click()  # 初步意见 left empty
    error = field_of(action_form(page, "propose"), "初步意见").locator(".error")
    expect(error).to_have_text("该字段是必填项。")
    expect(error).to_be_visible(timeout=2000)
