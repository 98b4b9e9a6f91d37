"""A unit's officer applies in the browser for one of the unit's cadres (单位代为申请) and follows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import Case, Origin

from .conftest import Site, screenshot
from .helpers import conduct_date, field_of

pytestmark = pytest.mark.e2e

TITLE = "汛期危房先行拆除被问责"


def test_unit_officer_applies_for_a_cadre_and_sees_it_in_the_units_list(site: Site) -> None:
    page = site.login("unit")
    expect(page.locator("h1")).to_have_text("本单位的申请")
    page.locator("nav.mainnav").get_by_role("link", name="代干部申请容错").click()
    expect(page.locator("h1")).to_have_text("容错书面申请")

    # Forgetting to say for whom comes back with the reason beside the field, and nothing is stored.
    page.get_by_label("被问责事项").fill(TITLE)
    page.get_by_label("事情发生日期").fill(conduct_date().isoformat())
    page.get_by_label("事项类别").select_option("emergency")
    page.get_by_label("发生了什么").fill("暴雨中组织对有倒塌风险的危房先行拆除，鉴定备案程序后补，被通报问责。")
    page.get_by_role("button", name="提交申请").click()
    expect(field_of(page, "为哪位干部申请").locator(".error")).to_have_text("请选择为哪位干部申请。")
    assert Case.objects.count() == 0

    # Only the bureau's own cadres and the bureau itself are offered.
    options = page.get_by_label("为哪位干部申请").locator("option").all_inner_texts()
    assert any("张某" in o for o in options) and any("（单位）" in o for o in options)
    assert not any("王某" in o for o in options)
    page.get_by_label("为哪位干部申请").select_option(label=str(site.world.people["housing1"]))
    page.get_by_role("button", name="提交申请").click()

    expect(page.locator("ul.messages")).to_contain_text("已为张某提交容错申请")
    case = Case.objects.get()
    assert (case.title, case.origin, case.subject) == (TITLE, Origin.APPLICATION, site.world.people["housing1"])
    assert case.applicant_unit == site.world.orgs["zjk_housing"]
    expect(page.locator("main")).to_contain_text("申请单位：张家口市住房和城乡建设局")

    page.locator("nav.mainnav").get_by_role("link", name="本单位的申请").click()
    card = page.locator("section.card").filter(has_text=TITLE)
    expect(card).to_contain_text("为 张某（城建科科长）申请")
    expect(card).to_contain_text("问责部门正在受理本单位的申请。")
    screenshot(page, "unit")
