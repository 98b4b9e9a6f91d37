"""Say it in the user's words: people read titles and articles, never ids, hashes or JSON; one date
format; error pages in Chinese in the site's layout; findings coloured by what they mean for the cadre."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import Case
from rules.loader import registry

from .conftest import Site, screenshot
from .helpers import MEETING, actor, conduct_date, findings, open_tab, seed_executed

pytestmark = pytest.mark.e2e

# What a cadre, a unit or an official must never read on a page.
TECHNICAL = [
    (re.compile(r"\b(zhangjiakou|henan|hohhot|zhejiang|zhangjiagang)[.@-]"), "a rule set's or clause's id"),
    (re.compile(r"(?<![A-Za-z0-9])[PSXRM]\d{1,2}(\.\d+)?(?![A-Za-z0-9])"), "a clause's short id"),
    (re.compile(r"sha-?256|SM3", re.I), "a hash"),
    (re.compile(r"引擎|engine", re.I), "the engine version"),
    (re.compile(r"major_loss_threshold|content_hash"), "a parameter or key name"),
    (re.compile(r"\.(ya?ml|txt)\b"), "a source file name"),
    (re.compile(r"[{\[]\s*\"[a-z_]+\"\s*:"), "JSON"),
    (re.compile(r"\b(started|investigat\w*|propose[d]?|decided?|executed?|appeal(ed)?|closed|withdrawn|apply)\b"),
     "a state's or action's code"),
]
# The one date format: 2027年1月1日 (no leading zeros), with a time 2027年1月1日 09:05.
OTHER_DATE_FORMATS = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{4}/\d{1,2}/\d{1,2}\b|\d{4}年0\d月|月0\d日")


def page_text(page: Page) -> str:
    """Every text node a person can reach on the page, hidden tab panels included (not attributes)."""
    return page.evaluate("() => document.body.innerText + '\\n' + "
                         "Array.from(document.querySelectorAll('[hidden], details')).map(e => e.textContent).join('\\n')")


def assert_in_users_words(page: Page, where: str) -> None:
    text = page_text(page)
    for pattern, what in TECHNICAL:
        found = pattern.search(text)
        assert found is None, f"{where} shows {what}: {text[max(0, found.start() - 40):found.end() + 40]!r}"


def seed_unit_case(world: Any) -> Case:
    """The housing bureau's officer applied for its cadre 张某; decided and delivered."""
    from workflow import services

    version = registry().version_for("zhangjiakou", conduct_date())
    case = services.case_create(
        actor=actor(world, "unit"), title="汛期危房先行拆除被问责", subject=world.people["housing1"],
        accountability_org=world.orgs["zjk_dc"], conduct_date=conduct_date(), matter_category="emergency",
        summary="暴雨中组织对有倒塌风险的危房先行拆除，鉴定备案程序后补，被通报问责。",
        remedial_measures="已补办鉴定备案。", claimed_situations=[version.situations()[0].id],
    )
    inspector = actor(world, "inspector")
    services.case_investigate(case_id=case.pk, actor=inspector)
    for clause_id, status in findings(case, tolerable=False).items():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause_id, status=status,
                                reasoning="经核实。")
    services.case_propose(case_id=case.pk, actor=inspector, recommended_outcome="refused", opinion="建议不予容错。")
    services.consultation_reply(case_id=case.pk, actor=actor(world, "orgdept"), opinion="agree", comment="同意。")
    services.case_decide(case_id=case.pk, actor=actor(world, "committee"), outcome="refused",
                         meeting_date=timezone.localdate(), resolution="经集体研究，不予容错。", **MEETING)
    services.case_execute(case_id=case.pk, actor=inspector, delivered_on=timezone.localdate())
    case.refresh_from_db()
    return case


def seed_exclusion_case(world: Any) -> tuple[Case, str, str]:
    """A proposed case with one exclusion found present (met) and another found absent (not met)."""
    from workflow import services

    from .helpers import seed_application

    case = seed_application(world, title="一会三函先行开工被问责")
    version = registry().version_for(case.ruleset, case.conduct_date)
    present, absent = version.exclusions()[0].id, version.exclusions()[1].id
    inspector = actor(world, "inspector")
    services.case_investigate(case_id=case.pk, actor=inspector)
    chosen = findings(case, tolerable=True)
    chosen[present] = "met"
    for clause_id, status in chosen.items():
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause_id, status=status,
                                reasoning="经调取会议纪要核实。")
    services.case_propose(case_id=case.pk, actor=inspector, recommended_outcome="refused", opinion="存在不予容错情形。")
    services.consultation_reply(case_id=case.pk, actor=actor(world, "orgdept"), opinion="agree", comment="同意。")
    case.refresh_from_db()
    return case, present, absent


def test_cadre_and_unit_read_titles_and_articles_never_ids_hashes_or_json(site: Site) -> None:
    cadre_case = seed_executed(site.world, tolerable=False)
    unit_case = seed_unit_case(site.world)

    for username, case in (("cadre", cadre_case), ("unit", unit_case)):
        page = site.login(username)
        assert_in_users_words(page, f"{username}'s home page")
        page.goto(f"/cases/{case.pk}/")
        assert_in_users_words(page, f"{username}'s case page")
        version = registry().version_for(case.ruleset, case.conduct_date)
        if username == "cadre":  # the cadre reads the grounds once decided (a unit does not see them)
            open_tab(page, "调查认定与规则评估")
            expect(page.locator("#evaluation-panel")).to_contain_text(version.situations()[0].title)
            expect(page.locator("[data-tech-info]")).to_have_count(0)
        else:
            # The situation the unit claimed is named by its title and article.
            expect(page.locator("[data-panel='facts']")).to_contain_text(version.situations()[0].title)
        open_tab(page, "文书")
        assert_in_users_words(page, f"{username}'s documents tab")
        for path in ("/notifications/", "/mine/", "/rules/", "/rules/zhangjiakou/"):
            page.goto(path)
            assert_in_users_words(page, f"{username}'s {path}")
        if username == "cadre":
            screenshot(page, "words-cadre-rules")


def test_an_administrator_finds_the_identifiers_under_technical_information(site: Site) -> None:
    case = seed_executed(site.world, tolerable=True)
    inspector = site.world.users["inspector"]
    inspector.is_staff = True
    inspector.save(update_fields=["is_staff"])

    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=findings")
    tech = page.locator("#evaluation-panel [data-tech-info]")
    expect(tech).to_have_count(1)
    expect(tech.locator("summary")).to_have_text("技术信息")
    assert not tech.locator("code").first.is_visible()  # folded away until opened
    tech.locator("summary").click()
    expect(tech).to_contain_text(f"{case.ruleset}@")
    expect(tech).to_contain_text("sha256:")

    admin = site.login("admin")
    admin.goto("/rules/zhangjiakou/")
    admin.locator("[data-tech-info] summary").click()
    expect(admin.locator("[data-tech-info]")).to_contain_text("zhangjiakou@")


def test_an_official_without_admin_rights_sees_no_identifiers_on_the_case_and_rule_pages(site: Site) -> None:
    case = seed_executed(site.world, tolerable=True)
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/")
    assert_in_users_words(page, "the inspector's case page")
    page.goto("/rules/zhangjiakou/")
    assert_in_users_words(page, "the rule set page")


def test_the_comparison_page_asks_with_form_controls_and_answers_in_words(site: Site) -> None:
    page = site.login("inspector")
    page.goto("/rules/compare/")
    assert page.locator("textarea").count() == 0
    assert "JSON" not in page_text(page)
    page.get_by_label("行为发生日期").fill("2020-06-01")
    page.get_by_label("损失金额（元，可选）").fill("1000")
    expect(page.get_by_label("损失金额（元，可选）")).to_have_attribute("type", "number")
    henan = page.locator("details[data-ruleset='henan']")
    henan.locator("summary").click()
    henan.get_by_label(re.compile("违反纪律、法律法规强制性或禁止性规定")).select_option(label="符合")
    page.get_by_role("button", name="对照评估").click()

    expect(page.locator("h2", has_text="对照结果")).to_be_visible()
    row = page.locator("tr", has=page.locator("th", has_text="决定性条款"))
    expect(row).to_contain_text("违反纪律、法律法规强制性或禁止性规定")
    # The chosen finding is kept in its select after the answer.
    expect(page.locator("details[data-ruleset='henan'] select[name='c:henan.X1']")).to_have_value("met")
    assert_in_users_words(page, "the comparison result")
    screenshot(page, "words-compare")


def test_errors_are_chinese_pages_in_the_layout_with_a_way_back(site: Site) -> None:
    page = site.login("cadre")
    page.goto("/")
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在（404）")
    expect(page.locator("header.topbar")).to_contain_text("容错纠错案件管理系统")
    assert "Page not found" not in page.content() and "URLconf" not in page.content()
    page.get_by_role("link", name="返回上一页").click()
    page.wait_for_url(f"{site.url}/")
    screenshot_page = page

    # A page the role may not open: 403 in Chinese with the reason.
    response = page.goto("/filings/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问（403）")
    expect(page.locator("main")).to_contain_text("只有组织部门可以查看备案登记。")
    expect(page.get_by_role("link", name="回到首页")).to_have_attribute("href", "/")

    # A form posted without its CSRF token (e.g. after the session changed): Chinese, in the layout.
    anonymous = site.new_context().new_page()
    anonymous.goto("/login/")
    anonymous.context.clear_cookies()
    anonymous.fill("#id_username", "cadre")
    anonymous.fill("#id_password", "whatever-it-is")
    anonymous.get_by_role("button", name="登录").click()
    expect(anonymous.locator("h1")).to_have_text("页面已过期，未能提交（403）")
    expect(anonymous.locator("footer")).to_contain_text("容错纠错案件管理系统")
    expect(anonymous.get_by_role("link", name="返回上一页")).to_be_visible()
    screenshot(anonymous, "words-csrf")
    screenshot(screenshot_page, "words-403")


def test_dates_are_written_one_way_on_every_page_a_user_reads(site: Site) -> None:
    case = seed_executed(site.world, tolerable=False)
    today = timezone.localdate()
    written = f"{today.year}年{today.month}月{today.day}日"
    for username, paths in (
        ("cadre", ["/", f"/cases/{case.pk}/", "/notifications/", "/mine/"]),
        ("inspector", ["/", "/cases/", f"/cases/{case.pk}/", "/notifications/"]),
        ("committee", [f"/cases/{case.pk}/", "/notifications/"]),
        ("orgdept", ["/filings/"]),
    ):
        page = site.login(username)
        for path in paths:
            page.goto(path)
            text = page_text(page)
            other = OTHER_DATE_FORMATS.search(text)
            assert other is None, f"{username} {path}: {text[max(0, other.start() - 30):other.end() + 30]!r}"
            if path == f"/cases/{case.pk}/":
                assert written in text  # the delivery date, the decision's meeting, the history
                assert re.search(rf"{written} \d{{2}}:\d{{2}}", text)


def test_exclusions_are_coloured_by_what_they_mean_for_the_cadre(site: Site) -> None:
    case, present, absent = seed_exclusion_case(site.world)
    version = registry().version_for(case.ruleset, case.conduct_date)
    page = site.login("committee")
    page.goto(f"/cases/{case.pk}/review/")

    def badge(clause_id: str):  # noqa: ANN202 - Locator
        return page.locator(f"[id='clause-{clause_id}'] [data-meaning]").first

    present_badge, absent_badge = badge(present), badge(absent)
    expect(present_badge).to_have_text("符合：存在该情形，导致不予容错")
    expect(absent_badge).to_have_text("不符合：不存在该情形，有利")
    expect(present_badge).to_have_class(re.compile(r"\bmeaning-unfavourable\b"))
    expect(absent_badge).to_have_class(re.compile(r"\bmeaning-favourable\b"))
    red = present_badge.evaluate("e => getComputedStyle(e).color")
    green = absent_badge.evaluate("e => getComputedStyle(e).color")
    r, g, _ = (int(v) for v in re.findall(r"\d+", red)[:3])
    assert r > g, red  # red text for the exclusion that causes refusal
    r, g, _ = (int(v) for v in re.findall(r"\d+", green)[:3])
    assert g > r, green  # green for the one that is absent
    # A prerequisite that is met is favourable too; the recorded finding carries the same meaning.
    prerequisite = version.prerequisites()[0].id
    expect(badge(prerequisite)).to_have_class(re.compile(r"\bmeaning-favourable\b"))
    expect(page.locator(f"[id='clause-{absent}'] [data-finding]")).to_have_class(re.compile(r"\bmeaning-favourable\b"))
    page.locator(f"[id='clause-{present}']").scroll_into_view_if_needed()
    screenshot(page, "words-exclusions")

    # The case page shows the same.
    page.goto(f"/cases/{case.pk}/?tab=findings")
    expect(badge(present)).to_have_class(re.compile(r"\bmeaning-unfavourable\b"))
    expect(badge(absent)).to_contain_text("不存在该情形，有利")
