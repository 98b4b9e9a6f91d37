"""In the browser: return visits (回访), clarification (澄清正名) and failures to tolerate (应容未容)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import MEETING, actor, open_tab, seed_executed, seed_proposed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_handler_records_a_return_visit_and_the_cadre_sees_only_the_plan(site):
    case = seed_executed(site.world, title="回访演示：先行查封偷排企业")
    first = case.return_visits.order_by("due_on").first()
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/")
    open_tab(page, "回访（2）")
    panel = page.locator("section[data-panel='visits']")
    assert "一问了之" in panel.inner_text() and "配置" in panel.inner_text()
    row = panel.locator(f"tr[data-visit='{first.pk}']")
    row.locator("summary").click()
    form = row.locator("form")
    form.locator("input[type=date]").fill(timezone.localdate().isoformat())
    form.locator("select").select_option("site")
    form.locator("textarea").nth(0).fill("到单位实地走访，与本人谈心谈话。")
    form.locator("button[type=submit]").click()  # 干部现实表现 left empty: refused in Chinese
    assert "请填写干部现实表现。" in page.locator(f"tr[data-visit='{first.pk}']").inner_text()
    form = page.locator(f"tr[data-visit='{first.pk}'] form")
    form.locator("textarea").nth(1).fill("工作积极，状态良好。")
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "tab=visits" in url)
    assert "回访情况已记录。" in page.content()
    first.refresh_from_db()
    assert first.done and first.form == "site" and first.cadre_state == "工作积极，状态良好。"
    screenshot(page, "followup-case-visits")
    page.goto("/visits/")
    assert "已完成（1）" in page.inner_text("main") and "待回访（1）" in page.inner_text("main")
    screenshot(page, "followup-visit-list")

    cadre = site.login("cadre")
    cadre.goto(f"/cases/{case.pk}/")
    open_tab(cadre, "回访（2）")
    text = cadre.locator("section[data-panel='visits']").inner_text()
    assert "计划中" in text and "实地走访" in text
    assert "谈心谈话" not in text and "状态良好" not in text


def test_inspector_clarifies_a_cadre_on_its_own(site):
    page = site.login("inspector")
    page.goto("/clarifications/")
    page.get_by_role("link", name="单独发起澄清正名").click()
    assert "誰辦理、誰澄清" in page.inner_text("main")
    page.locator("#id_person").select_option(str(site.world.people["housing1"].pk))
    page.get_by_label("一定范围内通报").check()
    page.get_by_role("button", name="记录澄清正名").click()  # no basis: refused
    assert "请填写澄清依据（调查核实情况）。" in page.inner_text("main")
    page.locator("#id_basis").fill("经调查核实，反映张某在改造工程中收受好处的问题不属实，系诬告。")
    page.locator("#id_accuser_referred_to").fill("公安机关")
    page.locator("#id_accuser_referred_on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="记录澄清正名").click()
    page.wait_for_url(lambda url: url.endswith("/clarifications/"))
    table = page.locator("table.clarifications-table").inner_text()
    assert "张某" in table and "一定范围内通报" in table and "移送公安机关" in table
    screenshot(page, "followup-clarifications")
    link = page.get_by_role("link", name="澄清正名通知（PDF）").first.get_attribute("href")
    pdf = page.request.get(link)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")


def test_upper_commission_sees_and_dismisses_a_possible_failure_to_tolerate(site):
    from workflow import services
    from workflow.models import FailureStatus, FailureToTolerate

    case = seed_proposed(site.world, tolerable=True, title="应容未容演示：先行查封被不予容错")
    services.case_decide(case_id=case.pk, actor=actor(site.world, "committee"), outcome="refused",
                         override_reason="社会影响较大，不宜容错。", meeting_date=timezone.localdate(),
                         resolution="经集体研究，不予容错。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    assert failure.reviewer == site.world.orgs["hebei_dc"]

    handler = site.login("inspector")
    handler.goto("/failures-to-tolerate/")
    assert case.title not in handler.inner_text("main")

    page = site.login("inspector_up")
    page.locator("nav.mainnav").get_by_role("link", name="应容未容", exact=True).click()
    card = page.locator(f"div[data-failure='{failure.pk}']")
    assert "决定未采纳“予以容错”的规则评估" in card.inner_text() and "社会影响较大" in card.inner_text()
    screenshot(page, "followup-failures")
    card.get_by_role("button", name="排除").click()
    assert "请填写排除理由。" in page.locator(f"div[data-failure='{failure.pk}']").inner_text()
    card = page.locator(f"div[data-failure='{failure.pk}']")
    card.locator("textarea").first.fill("经审查，原决定的理由成立。")
    card.get_by_role("button", name="排除").click()
    page.wait_for_url(lambda url: url.endswith("/failures-to-tolerate/"))
    failure.refresh_from_db()
    assert failure.status == FailureStatus.DISMISSED and failure.resolution == "经审查，原决定的理由成立。"
    page.goto("/failures-to-tolerate/?status=dismissed")
    assert "经审查，原决定的理由成立。" in page.inner_text("main")
