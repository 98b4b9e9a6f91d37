"""One case from the cadre's application to the delivered feedback, each role in its own browser session."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import Case, CaseState, Evidence, Finding, Origin, Outcome
from rules.loader import registry
from workflow.models import Consultation, Decision, Notification, Proposal

from .conftest import Site, assert_no_dead_buttons, screenshot
from .helpers import (
    PDF_BYTES,
    PNG_BYTES,
    action_form,
    clause_title,
    conduct_date,
    confirm,
    control,
    field_of,
    findings,
    open_tab,
    state_badge,
)

pytestmark = pytest.mark.e2e

TITLE = "环境执法中先行查封偷排企业被问责"


def cadre_applies(site: Site) -> tuple[Page, Case]:
    page = site.login("cadre")
    expect(page.locator("h1")).to_have_text("我的案件")
    page.locator("nav.mainnav").get_by_role("link", name="申请容错").click()
    expect(page.locator("h1")).to_have_text("容错书面申请")

    # The server validates: an empty form comes back with Chinese errors beside the fields.
    page.get_by_role("button", name="提交申请").click()
    expect(field_of(page, "被问责事项").locator(".error")).to_have_text("该字段是必填项。")
    expect(field_of(page, "发生了什么").locator(".error")).to_have_text("该字段是必填项。")
    assert Case.objects.count() == 0

    version = registry().version_for("zhangjiakou", conduct_date())
    situation = version.situations()[0]
    page.get_by_label("被问责事项").fill(TITLE)
    page.get_by_label("向哪个问责部门申请").select_option(label="张家口市纪委监委")
    page.get_by_label("事情发生日期").fill(conduct_date().isoformat())
    page.get_by_label("事项类别").select_option("environment")
    page.get_by_label("发生了什么").fill("中央环保督察期间，对夜间偷排的企业先行查封，查封审批手续次日补办，被通报问责。")
    # The situations are offered with the rule set's own text.
    box = page.get_by_label(f"{situation.title}（{situation.citation}）", exact=False)
    expect(page.locator("fieldset").filter(has_text="您认为适用的容错情形")).to_contain_text(situation.text[:20])
    box.check()
    page.get_by_label("已采取的补救措施").fill("已补办全部手续，并向企业说明情况。")
    page.get_by_label("附件（可多选）").set_input_files(
        [{"name": "查封决定书.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="提交申请").click()

    expect(page.locator("ul.messages")).to_contain_text("您的容错申请已提交")
    case = Case.objects.get()
    assert (case.title, case.origin, case.state) == (TITLE, Origin.APPLICATION, CaseState.STARTED)
    assert case.subject == site.world.people["cadre"]
    assert case.claimed_situations == [situation.id]
    assert [e.original_name for e in case.evidence.all()] == ["查封决定书.pdf"]
    assert case.history.filter(action="apply").count() == 1

    page.locator("nav.mainnav").get_by_role("link", name="我的案件").click()
    card = page.locator("section.card").filter(has_text=TITLE)
    expect(card).to_contain_text("已启动")
    expect(card).to_contain_text("问责部门正在受理您的申请。")
    expect(card).to_contain_text(f"本环节期限：{case.deadline.year}年{case.deadline.month}月{case.deadline.day}日")
    return page, case


def inspector_investigates(site: Site, case: Case) -> Page:
    page = site.login("inspector")
    expect(page.locator("h1")).to_have_text("案件收件箱")
    # The bell counts the new application; the notification page lists it and marks it read.
    bell = page.locator("a.bell")
    expect(bell.locator(".count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "通知，1 条未读")
    bell.click()
    expect(page.locator("ul.card")).to_contain_text(f"收到容错申请：王某《{TITLE}》")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator("a.bell .count")).to_have_count(0)
    assert not Notification.objects.filter(user=site.world.users["inspector"], read_at__isnull=True).exists()

    page.locator("nav.mainnav").get_by_role("link", name="首页").click()
    page.get_by_label("检索").fill("王某")
    page.get_by_label("状态").select_option(label="已启动")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table[aria-label=案件列表] tbody tr")
    expect(rows).to_have_count(1)
    screenshot(page, "inspector")
    rows.get_by_role("link", name=TITLE).click()

    expect(page.locator("h1")).to_contain_text(TITLE)
    assert_no_dead_buttons(page, case.pk)
    open_tab(page, "办理（")
    action_form(page, "investigate").get_by_role("button", name="开始调查").click()
    expect(page.locator("ul.messages")).to_contain_text("已完成：开始调查")
    assert state_badge(page) == "调查中"
    case.refresh_from_db()
    assert (case.state, case.handler) == (CaseState.INVESTIGATING, site.world.users["inspector"])

    # Evidence: dropped onto the drop zone, then previewed in place.
    open_tab(page, "证据材料")
    page.evaluate(
        """([name, bytes]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
            const zone = document.querySelector(".dropzone");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        ["现场照片.png", list(PNG_BYTES)],
    )
    expect(page.locator(".dropzone .chosen")).to_have_text("现场照片.png")
    page.get_by_label("说明").fill("查封现场照片")
    page.locator("section[data-panel=evidence]").get_by_role("button", name="上传").click()
    expect(page.locator("ul.messages")).to_contain_text("已上传：现场照片.png")
    page.get_by_text("预览 现场照片.png").click()
    preview = page.get_by_role("img", name="现场照片.png")
    expect(preview).to_be_visible()
    # The preview loads after it is shown: wait for the image itself (a 1×1 PNG), then check it.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") == 1
    assert Evidence.objects.filter(case=case, original_name="现场照片.png", uploaded_by=site.world.users["inspector"]).exists()

    # Findings, clause by clause: each save refreshes the evaluation in place, without a page load.
    open_tab(page, "调查认定与规则评估")
    panel = page.locator("#evaluation-panel")
    expect(panel.locator(".verdict")).to_contain_text("尚不能认定")
    page.evaluate("window.__samePage = true")
    wanted = findings(case, tolerable=True)
    for n, (clause_id, status) in enumerate(wanted.items(), start=1):
        clause = panel.locator(f"[id='clause-{clause_id}']")
        clause.get_by_label(f"{clause_title(clause_id)} 认定").select_option(status)
        clause.get_by_label(f"{clause_title(clause_id)} 理由").fill("经调取会议纪要和现场执法记录核实。")
        with page.expect_response(lambda r: r.url.endswith(f"/cases/{case.pk}/evaluation/")):
            clause.get_by_role("button", name="保存认定").click()
        expect(panel.locator(f"[id='clause-{clause_id}'] .clause-head")).to_contain_text(
            {"met": "符合", "not_met": "不符合"}[status])
        if n == len(wanted) - 1:
            expect(panel.locator(".verdict")).to_contain_text("尚不能认定")
    expect(panel.locator(".verdict")).to_contain_text("予以容错")
    assert page.evaluate("window.__samePage") is True
    version = registry().version_for(case.ruleset, case.conduct_date)
    first = version.prerequisites()[0]
    head = panel.locator(f"[id='clause-{first.id}']")
    expect(head.locator(".clause-head")).to_contain_text(first.citation)
    expect(head.locator(".quote")).to_contain_text(first.text[:30])
    assert dict(Finding.objects.filter(case=case).values_list("clause_id", "status")) == wanted

    # The proposal goes to the organisation department for consultation. Reload first: the action forms
    # still carry the revision from before the inline findings (see test_bugs.py).
    page.reload()
    open_tab(page, "办理（")
    form = action_form(page, "propose")
    control(form, "建议结论").select_option(label="免责")
    control(form, "初步意见").fill("经调查，符合容错条件和情形，建议予以免责。")
    form.get_by_role("button", name="提出初步建议").click()
    expect(page.locator("ul.messages")).to_contain_text("已完成：提出初步建议")
    assert state_badge(page) == "已提出建议"
    proposal = Proposal.objects.get(case=case)
    assert (proposal.recommended_outcome, proposal.evaluation["verdict"]) == (Outcome.EXEMPT, "tolerable")
    assert list(proposal.consultations.values_list("organisation__name", flat=True)) == ["中共张家口市委组织部"]
    assert_no_dead_buttons(page, case.pk)
    return page


def orgdept_replies(site: Site, case: Case) -> None:
    page = site.login("orgdept")
    expect(page.locator("h1")).to_have_text("会商与已决定案件")
    pending = page.locator("section.card").filter(has_text="待回复的会商请求")
    screenshot(page, "orgdept")
    pending.get_by_role("link", name=f"王某《{TITLE}》").click()
    assert_no_dead_buttons(page, case.pk)
    open_tab(page, "办理（")
    form = action_form(page, "consult_reply")
    form.get_by_label("同意", exact=True).check()
    control(form, "说明").fill("同意纪委监委意见。")
    form.get_by_role("button", name="回复会商意见").click()
    expect(page.locator("ul.messages")).to_contain_text("已完成：回复会商意见")
    consultation = Consultation.objects.get(proposal__case=case)
    assert (consultation.opinion, consultation.replied_by) == ("agree", site.world.users["orgdept"])
    open_tab(page, "建议与会商")
    expect(page.locator("section[data-panel=opinions] table")).to_contain_text("同意纪委监委意见。")


def committee_decides(site: Site, case: Case) -> None:
    page = site.login("committee")
    expect(page.locator("h1")).to_have_text("待研究决定")
    screenshot(page, "committee")
    page.get_by_role("link", name=TITLE).click()

    # The decision page: proposal, consultation opinions and the rule trace beside the decision form.
    expect(page.locator("h1")).to_contain_text(f"研究决定：{TITLE}")
    assert_no_dead_buttons(page, case.pk)
    grid = page.locator(".review-grid")
    expect(grid).to_contain_text("初步建议（第 1 轮）：免责")
    expect(grid).to_contain_text("经调查，符合容错条件和情形，建议予以免责。")
    expect(grid.locator("table")).to_contain_text("同意纪委监委意见。")
    first = registry().version_for(case.ruleset, case.conduct_date).prerequisites()[0]
    trace = grid.locator(f"[id='clause-{first.id}']")
    expect(trace).to_contain_text(first.citation)
    expect(trace).to_contain_text("符合")
    expect(trace.locator(".quote")).to_contain_text(first.text[:30])
    form = action_form(page, "decide")
    proposal_box = grid.locator("section.card").first.bounding_box()
    form_box = form.bounding_box()
    assert form_box["x"] > proposal_box["x"] + proposal_box["width"] - 1, "the form sits beside the proposal"
    screenshot(page, "committee-decision")

    expect(form).to_contain_text("规则评估：予以容错")
    control(form, "结论").select_option(label="免责")
    control(form, "会议形式").select_option(label="党委常委会会议")
    expect(control(form, "会议日期")).to_have_value(timezone.localdate().isoformat())
    control(form, "到会人数").fill("5")
    control(form, "应到人数").fill("11")
    control(form, "决定内容").fill("经市委常委会集体研究，决定对王某同志予以免责。")
    form.get_by_role("button", name="作出决定").click()
    confirm(form)

    # Not more than half present: the case is unchanged and the reason shows beside 到会人数.
    form = action_form(page, "decide")
    error = field_of(form, "到会人数").locator(".error")
    expect(error).to_have_text("到会 5 人，未超过应到 11 人的半数，不能集体研究作出决定。")
    expect(error).to_be_visible()
    assert not Decision.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).state == CaseState.PROPOSED
    # What the member typed is kept.
    expect(control(form, "决定内容")).to_have_value("经市委常委会集体研究，决定对王某同志予以免责。")

    control(form, "到会人数").fill("9")
    form.get_by_role("button", name="作出决定").click()
    confirm(form)
    expect(page.locator("ul.messages")).to_contain_text("已完成：集体研究决定")
    assert state_badge(page) == "已决定"
    decision = Decision.objects.get(case=case)
    assert (decision.outcome, decision.members_present, decision.members_total) == (Outcome.EXEMPT, 9, 11)
    assert decision.recorded_by == site.world.users["committee"]
    assert not decision.override_reason
    open_tab(page, "决定与申诉")
    expect(page.locator("section[data-panel=decision]")).to_contain_text("应到 11 人，实到 9 人")


def inspector_executes(page: Page, case: Case) -> None:
    page.reload()
    assert_no_dead_buttons(page, case.pk)
    open_tab(page, "办理（")
    form = action_form(page, "execute")
    control(form, "书面反馈送达日期").fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="执行并送达").click()
    confirm(form)
    expect(page.locator("ul.messages")).to_contain_text("已完成：执行并送达")
    case.refresh_from_db()
    assert (case.state, case.delivered_on) == (CaseState.EXECUTED, timezone.localdate())


def cadre_reads_the_result(page: Page, case: Case) -> None:
    page.locator("nav.mainnav").get_by_role("link", name="我的案件").click()
    card = page.locator("section.card").filter(has_text=TITLE)
    expect(card).to_contain_text("已执行")
    expect(card).to_contain_text("免责")
    expect(card).to_contain_text("已送达书面反馈。")
    expect(page.locator("a.bell .count")).not_to_have_count(0)
    screenshot(page, "cadre")
    card.get_by_role("link", name=TITLE).click()
    assert_no_dead_buttons(page, case.pk)
    # Internal opinions stay internal; the decision and its grounds are the cadre's to read.
    expect(page.locator("nav.tabs")).not_to_contain_text("建议与会商")
    open_tab(page, "决定与申诉")
    expect(page.locator("section[data-panel=decision]")).to_contain_text("经市委常委会集体研究，决定对王某同志予以免责。")
    open_tab(page, "文书")
    expect(page.locator("section[data-panel=documents]")).to_contain_text("书面反馈")


def test_application_investigation_consultation_decision_and_delivery(site: Site) -> None:
    cadre, case = cadre_applies(site)
    inspector = inspector_investigates(site, case)
    orgdept_replies(site, case)
    committee_decides(site, case)
    inspector_executes(inspector, case)
    cadre_reads_the_result(cadre, case)

    steps = list(case.history.order_by("id").values_list("action", flat=True))
    assert steps[0] == "apply"
    for action in ("investigate", "record_finding", "add_evidence", "propose", "consult_reply", "decide", "execute"):
        assert action in steps
