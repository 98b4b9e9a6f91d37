"""The procedure's order as a user meets it: an unanswered consultation holds the decision back, and a
meeting date before the proposal is refused beside the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CaseState
from workflow.models import Consultation, Decision

from .conftest import Site
from .helpers import action_form, confirm, control, field_of, seed_proposed, state_badge

pytestmark = pytest.mark.e2e


def test_the_committee_waits_for_the_consultation_until_the_handler_withdraws_it(site: Site) -> None:
    case = seed_proposed(site.world, answered=False, title="会商未回复的案件")
    committee = site.login("committee")
    committee.goto(f"/cases/{case.pk}/review/")
    notice = committee.locator("[data-outstanding]")
    expect(notice).to_contain_text("暂不能作出决定")
    expect(notice).to_contain_text("中共张家口市委组织部")
    expect(action_form(committee, "decide")).to_have_count(0)
    committee.screenshot(path=str(site_screenshot("decision-waits-for-consultation.png")), full_page=True)

    inspector = site.login("inspector")
    inspector.goto(f"/cases/{case.pk}/?tab=actions")
    form = action_form(inspector, "consult_withdraw")
    form.get_by_label("撤回哪个部门的会商请求").select_option(label="中共张家口市委组织部")
    control(form, "撤回理由").fill("组织部已出具书面意见，附卷备查。")
    form.get_by_role("button", name="撤回会商请求").click()
    expect(inspector.locator("ul.messages")).to_contain_text("已完成：撤回会商请求")
    assert Consultation.objects.get(proposal__case=case).closed_reason == "组织部已出具书面意见，附卷备查。"

    committee.goto(f"/cases/{case.pk}/review/")
    expect(committee.locator("[data-outstanding]")).to_have_count(0)
    expect(action_form(committee, "decide")).to_have_count(1)


def test_a_meeting_date_before_the_proposal_is_refused_beside_the_field(site: Site) -> None:
    case = seed_proposed(site.world, title="会议日期早于建议的案件")
    page = site.login("committee")
    page.goto(f"/cases/{case.pk}/review/")
    form = action_form(page, "decide")
    form.get_by_label("结论").select_option("exempt")
    control(form, "会议日期").fill((timezone.localdate() - dt.timedelta(days=120)).isoformat())
    control(form, "到会人数").fill("9")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经集体研究，予以免责。")
    form.get_by_role("button", name="作出决定").click()
    confirm(form)
    error = field_of(page, "会议日期").locator(".errorlist, .error")
    expect(error).to_contain_text("不能早于本案的")
    assert not Decision.objects.filter(case=case).exists()
    assert state_badge(page) == CaseState.PROPOSED.label


def site_screenshot(name: str):  # noqa: ANN201 - Path
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name
