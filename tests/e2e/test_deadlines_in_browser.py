"""Deadlines that act, in the browser: a reminder in the handler's notifications, a pause on the case page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workflow.models import CasePause, HistoryEntry
from workflow.services import case_investigate
from workflow.services.reminders import deadlines_check

from .conftest import Site, screenshot
from .helpers import action_form, actor, control, open_tab, seed_application

pytestmark = pytest.mark.e2e


def test_the_handler_sees_the_reminder_and_pauses_the_clock_by_requesting_material(site: Site) -> None:
    case = seed_application(site.world, title="汛期应急抢修未按程序报批被问责")
    case_investigate(case_id=case.pk, actor=actor(site.world, "inspector"))
    case.refresh_from_db()
    # The day of the deadline itself: the reminder is due (its lead has passed), the case is not yet overdue.
    taken = deadlines_check(today=case.deadline)
    assert (taken["reminder"], taken["overdue"], taken["escalation"]) == (1, 0, 0)

    inspector = site.login("inspector")
    expect(inspector.locator("a.bell .count")).to_have_text("1")
    inspector.locator("a.bell").click()
    reminder = inspector.locator("ul.card li").filter(has_text="催办")
    expect(reminder).to_contain_text(f"{case.reference}《汛期应急抢修未按程序报批被问责》")
    expect(reminder).to_contain_text(f"办理期限为{case.deadline.year}年{case.deadline.month}月{case.deadline.day}日")
    screenshot(inspector, "deadline-reminder-notifications")

    reminder.get_by_role("link").click()
    open_tab(inspector, "办理（")
    form = action_form(inspector, "request_material")
    control(form, "理由").fill("请补充抢修当日的现场照片和会议纪要。")
    form.get_by_role("button", name="要求补充材料").click()
    expect(inspector.locator("ul.messages")).to_contain_text("已完成：要求补充材料")

    clock = inspector.locator("section.case-clock")
    expect(clock).to_contain_text("期限暂停中")
    expect(clock).to_contain_text("等待当事人补充材料：请补充抢修当日的现场照片和会议纪要。")
    expect(clock).to_contain_text("待当事人提交材料后恢复计算")
    assert CasePause.objects.filter(case=case, reason="material", ended_at__isnull=True).exists()
    assert HistoryEntry.objects.filter(case=case, action="clock_pause").exists()
    open_tab(inspector, "操作记录")
    history = inspector.locator("section[data-panel='history']")
    expect(history.locator("li").filter(has_text="办理期限暂停")).to_contain_text("理由：等待当事人补充材料")
    inspector.locator("section.case-clock").scroll_into_view_if_needed()
    screenshot(inspector, "deadline-pause-case-page")

    # While the clock stands still, even a late check sends nothing more.
    import datetime as dt

    late = deadlines_check(today=case.deadline + dt.timedelta(days=30))
    assert (late["reminder"], late["overdue"], late["escalation"]) == (0, 0, 0)
