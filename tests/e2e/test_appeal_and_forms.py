"""A refused case appealed and re-reviewed; stale and double-submitted forms, driven in the browser."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, CaseState, Origin, Outcome
from rules.dates import cn_date
from workflow.models import Appeal, Decision, DecisionKind

from .conftest import Site, assert_no_dead_buttons
from .helpers import (
    PDF_BYTES,
    action_form,
    conduct_date,
    confirm,
    control,
    field_of,
    open_tab,
    seed_executed,
    seed_proposed,
    state_badge,
)

pytestmark = pytest.mark.e2e


def test_refused_cadre_appeals_and_the_committee_overturns_with_a_reason(site: Site) -> None:
    case = seed_executed(site.world, username="cadre2", tolerable=False, title="监测设备采购程序问题")
    assert (case.state, case.outcome) == (CaseState.EXECUTED, Outcome.REFUSED)

    cadre = site.login("cadre2")
    card = cadre.locator("section.card").filter(has_text=case.title)
    deadline = case.appeal_deadline
    expect(card).to_contain_text(
        f"已送达不予容错的决定。如不服，可在 {cn_date(deadline)} 前申诉。")
    card.get_by_role("link", name=case.title).click()
    assert_no_dead_buttons(cadre, case.pk)
    open_tab(cadre, "办理（")
    form = action_form(cadre, "appeal")
    control(form, "申诉理由").fill("采购系为应对监测设备突发故障，已报经局党组同意，请求复核。")
    control(form, "附件").set_input_files(
        [{"name": "党组会议纪要.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    form.get_by_role("button", name="提出申诉").click()
    confirm(form)
    expect(cadre.locator("ul.messages")).to_contain_text("已完成：提出申诉")
    assert state_badge(cadre) == "申诉中"
    appeal = Appeal.objects.get(case=case)
    assert appeal.filed_by == site.world.users["cadre2"]
    assert case.evidence.filter(original_name="党组会议纪要.pdf", description="申诉附件").exists()
    assert_no_dead_buttons(cadre, case.pk)  # the window is used: no second appeal form

    member = site.login("committee_b")
    member.get_by_role("link", name=case.title).click()
    expect(member.locator("h1")).to_contain_text("研究决定")
    expect(member.locator(".review-grid")).to_contain_text("采购系为应对监测设备突发故障")
    assert_no_dead_buttons(member, case.pk)
    form = action_form(member, "review_appeal")
    expect(form).to_contain_text("规则评估：不予容错")
    override = form.locator("[data-override]")
    expect(override).to_contain_text("与规则评估不一致的理由")
    form.get_by_label("撤销原决定").check()
    expect(override).to_be_hidden()
    control(form, "撤销后的新结论").select_option(label="免责")
    # Overturning to an outcome the evaluation does not allow asks for the reason.
    expect(override).to_be_visible()
    control(form, "会议形式").select_option(label="党委常委会会议")
    control(form, "到会人数").fill("9")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经复核，撤销原不予容错决定，予以免责。")
    form.get_by_role("button", name="作出复核决定").click()
    confirm(form)

    form = action_form(member, "review_appeal")
    expect(field_of(form, "与规则评估不一致的理由").locator(".error")).to_have_text(
        "所选结论与规则评估（不予容错）不一致，须填写理由。")
    assert Case.objects.get(pk=case.pk).state == CaseState.APPEALED
    control(form, "与规则评估不一致的理由").fill("采购系应急所需，且已报经党组同意，符合突发事件处置情形。")
    form.get_by_role("button", name="作出复核决定").click()
    confirm(form)

    expect(member.locator("ul.messages")).to_contain_text("已完成：申诉复核")
    case.refresh_from_db()
    appeal.refresh_from_db()
    assert (case.state, case.outcome) == (CaseState.DECIDED, Outcome.EXEMPT)
    assert appeal.result == "overturned"
    review = Decision.objects.get(case=case, kind=DecisionKind.APPEAL_REVIEW)
    assert review.recorded_by == site.world.users["committee_b"]
    assert review.override_reason.startswith("采购系应急所需")
    assert appeal.review_decision == review


def test_a_stale_decision_form_shows_that_the_case_changed_and_its_fresh_state(site: Site) -> None:
    case = seed_proposed(site.world)
    first = site.login("committee")
    second = first.context.new_page()
    url = f"/cases/{case.pk}/review/"
    for page in (first, second):
        page.goto(url)
        form = action_form(page, "decide")
        control(form, "结论").select_option(label="免责")
        control(form, "到会人数").fill("9")
        control(form, "应到人数").fill("11")
        control(form, "决定内容").fill("经市委常委会集体研究，予以免责。")

    action_form(first, "decide").get_by_role("button", name="作出决定").click()
    confirm(first)
    expect(first.locator("ul.messages")).to_contain_text("已完成：集体研究决定")

    action_form(second, "decide").get_by_role("button", name="作出决定").click()
    confirm(second)
    expect(second.locator("ul.messages")).to_contain_text("此案件已被他人更新")
    assert state_badge(second) == "已决定"
    expect(second.locator("form[action$='/act/decide/']")).to_have_count(0)
    assert Decision.objects.filter(case=case).count() == 1


def _fill_application(page, title: str) -> None:
    page.goto("/apply/")
    page.get_by_label("被问责事项").fill(title)
    page.get_by_label("事情发生日期").fill(conduct_date().isoformat())
    page.get_by_label("事项类别").select_option("funds")
    page.get_by_label("发生了什么").fill("为尽快恢复监测，采用单一来源采购，事后被审计指出程序问题。")


def test_a_double_submitted_application_creates_one_case(site: Site) -> None:
    # Signed in with the keyboard only: the login form is usable without a mouse.
    page = site.new_context().new_page()
    page.goto("/login/")
    expect(page.locator("#id_username")).to_be_focused()  # the username field has autofocus
    page.keyboard.type("cadre2")
    page.keyboard.press("Tab")
    page.keyboard.type(site.world.password)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("我的案件")

    # An impatient double click.
    _fill_application(page, "单一来源采购被审计指出问题")
    page.get_by_role("button", name="提交申请").dblclick()
    expect(page.locator("ul.messages")).to_contain_text("您的容错申请已提交")
    assert Case.objects.filter(title="单一来源采购被审计指出问题").count() == 1

    # The same filled form sent twice past the page's script (a retry after a lost response).
    _fill_application(page, "监测数据报送延误被问责")
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("form.card");
            const body = new FormData(form);
            const one = await fetch(location.href, {method: "POST", body, redirect: "manual"});
            const two = await fetch(location.href, {method: "POST", body, redirect: "manual"});
            return [one.type, two.type];
        }"""
    )
    assert statuses == ["opaqueredirect", "opaqueredirect"]  # both accepted, both sent to the case page
    cases = Case.objects.filter(title="监测数据报送延误被问责")
    assert cases.count() == 1
    assert cases.get().origin == Origin.APPLICATION
    assert cases.get().history.filter(action="apply").count() == 1
    page.goto("/mine/")
    expect(page.locator("section.card h2")).to_have_count(2)


def test_committee_member_can_decide_with_the_keyboard(site: Site) -> None:
    case = seed_proposed(site.world)
    page = site.login("committee")
    page.goto(f"/cases/{case.pk}/review/")
    form = action_form(page, "decide")
    # Clicking a label focuses its control; from there Tab walks the form in reading order.
    form.locator("label", has_text="到会人数").click()
    page.keyboard.type("9")
    page.keyboard.press("Tab")
    page.keyboard.type("11")
    page.keyboard.press("Tab")
    page.keyboard.type("经集体研究，予以免责。")
    expect(control(form, "决定内容")).to_be_focused()
    page.keyboard.press("Tab")  # the override reason is hidden while the outcome agrees with the evaluation
    expect(form.get_by_role("button", name="作出决定")).to_be_focused()
    page.keyboard.press("Enter")
    # The decision cannot be undone: it asks once, with 取消 focused, and 确定 is one Shift+Tab away.
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog.get_by_role("button", name="取消")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="确定")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("ul.messages")).to_contain_text("已完成：集体研究决定")
    decision = Decision.objects.get(case=case)
    assert (decision.members_present, decision.members_total, decision.meeting_date) == (
        9, 11, timezone.localdate())
