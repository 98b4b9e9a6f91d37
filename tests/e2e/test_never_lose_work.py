"""Never surprise, never lose work, as a user meets it: irreversible actions ask once (取消 changes nothing,
确定 performs it), attachments survive a validation error and become evidence, an application draft comes
back, the error summary's links take the cursor to the field, counters count, and a notice names its case,
leads to it and is done once its task is."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import Case, CaseState, Evidence
from workflow.actions import ACTIONS
from workflow.models import Draft, HistoryEntry, Notification, PendingUpload

from .conftest import Site, screenshot
from .helpers import (
    MEETING,
    PDF_BYTES,
    PNG_BYTES,
    action_form,
    actor,
    confirm,
    control,
    seed_application,
    seed_executed,
    seed_proposed,
    state_badge,
)

pytestmark = pytest.mark.e2e


def footprint(case: Case) -> tuple:
    """What an action would change: state, revision and the length of the history."""
    case.refresh_from_db()
    return case.state, case.revision, HistoryEntry.objects.filter(case=case).count()


def asks_then_acts(page: Page, button, *, action: str, case: Case, done: str, shot: str | None = None) -> None:
    """The button asks once; 取消 leaves the case as it was, 确定 performs the action."""
    before = footprint(case)
    button.click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_have_text(ACTIONS[action].confirm)
    if shot:
        screenshot(page, shot)
    confirm(page, accept=False)
    expect(dialog).to_be_hidden()
    expect(button).to_be_enabled()  # the form is not stuck as "already sent"
    assert footprint(case) == before

    button.click()
    confirm(page)
    expect(page.locator("ul.messages")).to_contain_text(f"已完成：{done}")
    expect(dialog).to_have_count(0)  # asked once: the new page shows no second question
    assert footprint(case) != before


def test_withdrawing_asks_first_and_is_not_the_primary_button(site: Site) -> None:
    case = seed_application(site.world, title="撤回前须确认的申请")
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=actions")
    form = action_form(page, "withdraw")
    button = form.get_by_role("button", name="撤回", exact=True)
    expect(button).not_to_have_class(re.compile(r"\bbtn-primary\b"))
    expect(button).to_have_class(re.compile(r"\bbtn-danger-secondary\b"))
    control(form, "理由").fill("申请人已书面说明撤回。")

    asks_then_acts(page, button, action="withdraw", case=case, done="撤回", shot="confirm-withdraw")
    assert footprint(case)[0] == CaseState.WITHDRAWN


def test_deciding_asks_first(site: Site) -> None:
    case = seed_proposed(site.world, title="作出决定前须确认")
    page = site.login("committee")
    page.goto(f"/cases/{case.pk}/review/")
    form = action_form(page, "decide")
    control(form, "结论").select_option(label="免责")
    control(form, "到会人数").fill("9")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经市委常委会集体研究，予以免责。")

    form.get_by_role("button", name="作出决定").click()
    expect(page.locator("dialog.confirm-dialog #confirm-chosen")).to_have_text("结论：免责")  # what is decided
    confirm(page, accept=False)
    asks_then_acts(page, form.get_by_role("button", name="作出决定"), action="decide", case=case,
                   done="集体研究决定", shot="confirm-decide")
    assert footprint(case)[0] == CaseState.DECIDED


def test_executing_asks_first(site: Site) -> None:
    from workflow import services

    case = seed_proposed(site.world, title="执行送达前须确认")
    services.case_decide(case_id=case.pk, actor=actor(site.world, "committee"), outcome="exempt",
                         meeting_date=timezone.localdate(), resolution="经集体研究，予以免责。", **MEETING)
    page = site.login("inspector")
    page.goto(f"/cases/{case.pk}/?tab=actions")
    form = action_form(page, "execute")
    control(form, "书面反馈送达日期").fill(timezone.localdate().isoformat())

    asks_then_acts(page, form.get_by_role("button", name="执行并送达"), action="execute", case=case, done="执行并送达")
    assert footprint(case)[0] == CaseState.EXECUTED


def test_appealing_and_reviewing_the_appeal_ask_first(site: Site) -> None:
    case = seed_executed(site.world, username="cadre2", tolerable=False, title="申诉前须确认")
    cadre = site.login("cadre2")
    cadre.goto(f"/cases/{case.pk}/?tab=actions")
    form = action_form(cadre, "appeal")
    control(form, "申诉理由").fill("采购系应急所需，请求复核。")
    asks_then_acts(cadre, form.get_by_role("button", name="提出申诉"), action="appeal", case=case, done="提出申诉")
    assert footprint(case)[0] == CaseState.APPEALED

    member = site.login("committee_b")
    member.goto(f"/cases/{case.pk}/review/")
    form = action_form(member, "review_appeal")
    form.get_by_label("维持原决定").check()
    control(form, "到会人数").fill("9")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经复核，维持原决定。")
    form.get_by_role("button", name="作出复核决定").click()
    expect(member.locator("dialog.confirm-dialog #confirm-chosen")).to_have_text("复核结果：维持原决定")
    confirm(member, accept=False)
    asks_then_acts(member, form.get_by_role("button", name="作出复核决定"), action="review_appeal", case=case,
                   done="申诉复核")
    assert footprint(case)[0] == CaseState.CLOSED


def test_saving_a_draft_of_an_irreversible_action_asks_nothing(site: Site) -> None:
    case = seed_proposed(site.world, title="草稿不需确认")
    page = site.login("committee")
    page.goto(f"/cases/{case.pk}/review/")
    form = action_form(page, "decide")
    control(form, "决定内容").fill("先记下讨论要点。")
    form.get_by_role("button", name="保存草稿").click()
    expect(page.locator("ul.messages")).to_contain_text("草稿已保存")
    expect(page.locator("dialog.confirm-dialog")).to_have_count(0)
    assert footprint(case)[0] == CaseState.PROPOSED


def _fill_application(page: Page, *, title: str, summary: str) -> None:
    page.get_by_label("被问责事项").fill(title)
    page.get_by_label("事情发生日期").fill((timezone.localdate() - dt.timedelta(days=30)).isoformat())
    page.get_by_label("事项类别").select_option("funds")
    page.get_by_label("发生了什么").fill(summary)


def test_attachments_survive_a_validation_error_can_be_removed_and_become_evidence(site: Site) -> None:
    page = site.login("cadre2")
    page.goto("/apply/")
    _fill_application(page, title="应急采购附件不丢失", summary="")
    page.get_by_label("附件（可多选）").set_input_files([
        {"name": "党组会议纪要.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
        {"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG_BYTES},
        {"name": "多余的扫描件.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
    ])
    page.get_by_role("button", name="提交申请").click()

    kept = page.locator("[data-kept-files] .kept-name")
    expect(kept).to_have_text(["党组会议纪要.pdf", "现场照片.png", "多余的扫描件.pdf"])
    expect(page.locator("[data-error-summary]")).to_contain_text("发生了什么")
    page.locator("[data-kept-files]").evaluate("el => el.scrollIntoView({block: 'center'})")
    screenshot(page, "application-kept-attachments")
    assert not Case.objects.filter(title="应急采购附件不丢失").exists()

    page.get_by_role("button", name="移除附件 多余的扫描件.pdf").click()
    expect(page.locator("ul.messages")).to_contain_text("已移除附件：多余的扫描件.pdf")
    expect(kept).to_have_text(["党组会议纪要.pdf", "现场照片.png"])
    expect(page.get_by_label("被问责事项")).to_have_value("应急采购附件不丢失")  # kept as a draft meanwhile

    page.get_by_label("发生了什么").fill("设备突发故障，先行单一来源采购，事后补办手续。")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("ul.messages")).to_contain_text("您的容错申请已提交")
    case = Case.objects.get(title="应急采购附件不丢失")
    names = sorted(Evidence.objects.filter(case=case).values_list("original_name", flat=True))
    assert names == ["党组会议纪要.pdf", "现场照片.png"]
    assert not PendingUpload.objects.filter(user=site.world.users["cadre2"]).exists()
    assert not Draft.objects.filter(user=site.world.users["cadre2"], case=None).exists()


def test_an_application_draft_is_restored_when_the_user_comes_back(site: Site) -> None:
    page = site.login("cadre2")
    page.goto("/apply/")
    _fill_application(page, title="草稿恢复的申请", summary="写到一半，明天再补充。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("ul.messages")).to_contain_text("草稿已保存")
    assert not Case.objects.filter(title="草稿恢复的申请").exists()

    page.goto("/mine/")
    page.goto("/apply/")
    expect(page.locator("[data-draft-restored]")).to_contain_text("已恢复您于")
    expect(page.get_by_label("被问责事项")).to_have_value("草稿恢复的申请")
    expect(page.get_by_label("发生了什么")).to_have_value("写到一半，明天再补充。")
    expect(page.get_by_label("事项类别")).to_have_value("funds")


def test_the_error_summary_links_put_the_cursor_in_the_field(site: Site) -> None:
    page = site.login("cadre2")
    page.goto("/apply/")
    page.get_by_role("button", name="提交申请").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(3)  # 被问责事项, 事情发生日期, 发生了什么
    summary.get_by_role("link", name=re.compile("^发生了什么")).click()
    expect(page.locator("#id_summary")).to_be_focused()
    summary.get_by_role("link", name=re.compile("^被问责事项")).click()
    expect(page.locator("#id_title")).to_be_focused()

    # An action form's summary, on the decision page.
    case = seed_proposed(site.world, title="汇总链接到字段")
    member = site.login("committee")
    member.goto(f"/cases/{case.pk}/review/")
    form = action_form(member, "decide")
    control(form, "到会人数").fill("5")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经集体研究，予以免责。")
    form.get_by_role("button", name="作出决定").click()
    confirm(form)
    form = action_form(member, "decide")
    link = form.locator("[data-error-summary]").get_by_role("link", name=re.compile("^到会人数"))
    link.click()
    expect(control(form, "到会人数")).to_be_focused()
    assert state_badge(member) == CaseState.PROPOSED.label


def test_limited_fields_count_characters_as_they_are_typed(site: Site) -> None:
    page = site.login("cadre2")
    page.goto("/apply/")
    title = page.get_by_label("被问责事项")
    counter = page.locator("#id_title-count")
    expect(counter).to_have_text("已输入 0 / 200 字")
    title.fill("应急采购")
    expect(counter).to_have_text("已输入 4 / 200 字")
    page.get_by_label("发生了什么").fill("一二三")
    expect(page.locator("#id_summary-count")).to_contain_text("已输入 3 / ")


def test_a_notice_shows_the_case_number_leads_to_the_case_and_is_done_after_the_task(site: Site) -> None:
    case = seed_proposed(site.world, title="通知带案号")
    member = site.world.users["committee"]
    notice = Notification.objects.get(user=member, case=case, task="decide")
    page = site.login("committee")
    page.goto("/notifications/")
    item = page.locator(f"[data-notification='{notice.pk}']")
    expect(item).to_contain_text(case.reference)
    expect(item.locator(".badge")).to_have_text(["待办", "未读"])
    screenshot(page, "notifications")

    item.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/"))
    expect(page.locator("h1")).to_contain_text(case.title)
    notice.refresh_from_db()
    assert notice.read_at is not None and notice.done_at is None

    page.goto("/notifications/")
    expect(item.locator(".badge")).to_have_text(["待办"])  # read, not yet done

    page.goto(f"/cases/{case.pk}/review/")
    form = action_form(page, "decide")
    control(form, "结论").select_option(label="免责")
    control(form, "到会人数").fill("9")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经集体研究，予以免责。")
    form.get_by_role("button", name="作出决定").click()
    confirm(form)
    expect(page.locator("ul.messages")).to_contain_text("已完成：集体研究决定")

    page.goto("/notifications/")
    expect(item.locator(".badge")).to_have_text(["已办结"])
    expect(item).to_contain_text("已办理")
    notice.refresh_from_db()
    assert notice.done_at is not None
