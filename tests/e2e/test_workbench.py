"""Onboarding Zhangjiagang from the raw report entirely through the workbench's pages: upload, select,
classify, version, tests, review by a second editor, publish; the published rule set then gives the
shipped rule set's verdicts and decisive clauses on all of its worked examples."""

from __future__ import annotations

import dataclasses

import pytest

from accounts.models import Role
from rules.casefiles import CASES_DIR, load_cases, run_case
from rules.registry import RULESETS_DIR, registry, reset_registry
from tests import factories
from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import screenshot
from tests.workbench import onboarding as ob
from workbench.models import PublishedVersion

pytestmark = pytest.mark.e2e

SELECT_JS = """(words) => {
  const doc = document.getElementById('wb-doc');
  const walker = document.createTreeWalker(doc, NodeFilter.SHOW_TEXT);
  const nodes = []; let total = 0, n;
  while ((n = walker.nextNode())) { nodes.push([n, total]); total += n.data.length; }
  const full = nodes.map(x => x[0].data).join('');
  const at = full.indexOf(words);
  if (at < 0) { throw new Error('not in document: ' + words); }
  const find = (pos) => { for (const [node, base] of nodes) { if (pos <= base + node.data.length) return [node, pos - base]; } };
  const [sn, so] = find(at + 1 > 0 ? at : 0); const [en, eo] = find(at + words.length);
  const range = document.createRange();
  range.setStart(sn, so === sn.data.length ? so : so); range.setEnd(en, eo);
  const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  doc.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


@pytest.fixture
def editors(world):
    org = world.orgs["zjk_dc"] if hasattr(world, "orgs") and "zjk_dc" in world.orgs else factories.DisciplineFactory()

    for name, full in (("wb_editor", "规则编辑甲"), ("wb_reviewer", "规则编辑乙")):
        user = factories.member(org, Role.RULESET_EDITOR, username=name, full_name=full)
        user.set_password(DEMO_PASSWORD)
        user.must_change_password = False
        user.save()
        world.users[name] = user
    return org


@pytest.fixture(autouse=True)
def published_rules(settings):
    settings.RULES_FROM_DATABASE = True
    reset_registry()
    yield
    settings.RULES_FROM_DATABASE = False
    reset_registry()


def _select(page, words: str) -> None:
    page.evaluate(SELECT_JS, words)
    assert page.input_value("#wb-clause-form [data-wb-end]") != ""


def _clause(page, kind: str, title: str, words: str, derive: dict | None = None, applies_to: str = "") -> None:
    _select(page, words)
    page.select_option("#wb-kind", kind)
    page.fill("#wb-title", title)
    if applies_to:
        page.select_option("#wb-applies-to", label=applies_to)
    if derive:
        page.select_option("#wb-derive-from", derive["derive_from"])
        page.select_option("#wb-derive-true", derive["derive_if_true"])
        page.select_option("#wb-derive-false", derive["derive_if_false"])
    page.click("#wb-add-clause")
    page.wait_for_load_state()
    assert "已标出" in page.inner_text(".messages"), page.inner_text(".messages")


def _upload(page, ruleset_id: str, source: str) -> None:
    page.goto("/workbench/")
    form = page.locator("#wb-upload")
    form.locator("input[name=ruleset_id]").fill(ruleset_id)
    form.locator("input[name=version_label]").fill("2017")
    form.locator("input[name=document]").set_input_files(str(RULESETS_DIR / "sources" / source))
    form.get_by_role("button", name="上传并识别条目").click()
    page.wait_for_url("**/workbench/*/")


def _add_test(page, ruleset_id: str, name: str, date: str, findings: dict, facts: dict | None, verdict: str,
              decisive: list[str]) -> None:
    test_form = page.locator("#wb-test-form")
    test_form.locator("input[name=name]").fill(name)
    test_form.locator("input[name=conduct_date]").fill(date)
    for short, status in findings.items():
        test_form.locator(f'select[data-clause="{ruleset_id}.{short}"]').select_option(status)
    for short in decisive:
        test_form.locator(f'input[data-clause="{ruleset_id}.{short}"]').check()
    if facts is not None:
        test_form.locator("input[name=with_facts]").check()
        test_form.locator("input[name=loss_amount]").fill(str(facts.get("loss_amount", 0)))
        if facts.get("prior_same_matter"):
            test_form.locator("input[name=prior_date]").fill(facts["prior_same_matter"][0]["date"])
    test_form.locator("select[name=expected_verdict]").select_option(verdict)
    page.click("#wb-add-test")
    page.wait_for_load_state()
    assert "已添加测试用例" in page.inner_text(".messages"), page.inner_text(".messages")


def test_zhangjiagang_onboarded_in_the_browser_gives_the_shipped_verdicts(site, editors):
    page = site.login("wb_editor")
    _upload(page, ob.RULESET, ob.SOURCE)

    # bad input first: an empty selection is refused and adds nothing
    page.evaluate("() => window.getSelection().removeAllRanges()")
    page.fill("#wb-title", "空选")
    page.click("#wb-add-clause")
    page.wait_for_load_state()
    assert "请先在文件中选中一段文字" in page.inner_text(".messages") or "为空" in page.inner_text(".messages")

    for kind, title, words, derive in ob.CLAUSES:
        _clause(page, kind, title, words, derive)
    # an overlapping selection is refused
    _select(page, "主动挽回损失")
    page.select_option("#wb-kind", "X")
    page.fill("#wb-title", "重叠")
    page.click("#wb-add-clause")
    page.wait_for_load_state()
    assert "重叠" in page.inner_text(".messages")
    _select(page, ob.SOFT)
    page.select_option("#wb-kind", "soft:P")
    page.click("#wb-add-clause")
    page.wait_for_load_state()

    version = page.locator("#wb-version")
    version.locator("input[name=title]").fill("张家港市容错免责机制")
    version.locator("input[name=issuer]").fill("中共张家港市委")
    version.locator("input[name=jurisdiction]").fill("江苏省张家港市")
    version.locator("input[name=effective_from]").fill("2017-03-01")
    version.locator("input[name=effective_from_approximate]").check()
    version.locator("input[name=outcomes_citation]").fill("对其免除或从轻、减轻处分或处理")
    page.click("#wb-save-version")
    page.wait_for_load_state()
    assert "已保存版本说明" in page.inner_text(".messages")

    page.fill("#wb-disposition-note", "报道中与容错认定无关的段落")
    page.click("#wb-dispose-rest")
    page.wait_for_load_state()

    for name, date, findings, facts, verdict, decisive in ob.TESTS:
        _add_test(page, ob.RULESET, name, date, findings, facts, verdict, decisive)

    assert page.locator(".wb-fail").count() == 0
    assert "测试全部通过" in page.inner_text("#wb-status")
    _select(page, "对其免除或从轻、减轻处分或处理")
    page.evaluate("() => document.querySelector('#wb-doc mark').scrollIntoView({block: 'center'})")
    page.evaluate("() => document.getElementById('wb-mark').scrollIntoView()")
    screenshot(page, "workbench")
    page.click("#wb-submit")
    page.wait_for_load_state()
    assert "已提交审核" in page.inner_text(".messages")
    # the editor cannot review their own draft: refused, nothing published
    page.click("#wb-publish")
    page.wait_for_load_state()
    assert "审核人不能是编辑过该草稿的人" in page.inner_text(".messages")
    assert not PublishedVersion.objects.exists()

    review = site.login("wb_reviewer")
    review.goto(page.url.split("#")[0])
    assert "本版本不替代任何版本" in review.inner_text("#wb-review")
    review.evaluate("() => document.getElementById('wb-review').scrollIntoView()")
    screenshot(review, "workbench-review")
    review.click("#wb-publish")
    review.wait_for_load_state()
    assert "已发布" in review.inner_text(".messages")
    published = PublishedVersion.objects.get()
    assert published.content_hash in review.inner_text("#wb-published")

    reset_registry()
    assert registry().version(ob.RULESET, "2017").content_hash == published.content_hash
    for case in load_cases(CASES_DIR / "zhangjiagang.yaml"):
        ev, _ = run_case(dataclasses.replace(case, ruleset=ob.RULESET))
        shipped, _ = run_case(case)
        assert ev.verdict == shipped.verdict, case.name
        assert sorted(c.split(".", 1)[1] for c in ev.decisive) == sorted(c.split(".", 1)[1] for c in shipped.decisive)


HENAN = [  # (kind, title, words, derive, the situation a requirement is attached to)
    ("S", "改革创新、大胆探索中出现的失误错误", "改革创新、大胆探索中出现的失误错误。在国家政策没有明令禁止或法律法规没有明确限制的情况下,创造性地开展工作或落实上级党委、政府决策部署,推动改革、大胆创新过程中出现的失误错误", None, ""),
    ("R", "重大改革创新项目事先评估并备案", "实施重大改革创新项目或有较大突破、探索的工作,应事先进行风险评估和论证,报上一级全面深化改革领导小组备案", None, "改革创新、大胆探索中出现的失误错误"),
    ("S", "推动发展、担当作为中出现的失误错误", "推动发展、担当作为中出现的失误错误。在经济社会发展特别是脱贫攻坚、环境保护、经济转型、社会稳定等中心工作和重点领域中,因承担急难险重任务、化解矛盾纠纷、解决历史遗留问题等,出于公心、担当尽责、积极作为过程中出现的失误错误", None, ""),
    ("R", "特事特办措施经同级政府同意并事前报告", "推动重大工程、重点项目建设时为确保工作进度,在使用财政资金时为避免国家、群众利益受损,在解决复杂矛盾纠纷、历史遗留问题时为维护社会稳定等情况下,采取的特事特办措施,要经同级人民政府同意后,在实施前向上级业务主管部门报告并征得同意", None, "推动发展、担当作为中出现的失误错误"),
    ("X", "违反纪律、法律法规强制性或禁止性规定", "违反党的纪律、法律法规的强制性或禁止性规定的", None, ""),
    ("X", "重特大事故、重大群体性事件或其他重大损失", "造成重特大安全责任事故、重大环境污染事故、重大群体性事件以及其他重大损失的",
     {"derive_from": "major_loss", "derive_if_true": "met", "derive_if_false": ""}, ""),
    ("X", "有错不纠、放任损失扩大", "发现有错或经提醒仍不及时纠偏纠错,放任错误造成更大损失的", None, ""),
    ("X", "同类问题连续出现失误过错", "同类问题连续出现失误过错的",
     {"derive_from": "repeat_same_matter", "derive_if_true": "met", "derive_if_false": "not_met"}, ""),
]


def test_henan_exclusions_and_a_requirement_attached_to_its_situation(site, editors):
    rid = "henan-workbench"
    page = site.login("wb_editor")
    _upload(page, rid, "henan-2017-yuban-28.txt")
    # a requirement with no situation to attach to is refused
    _select(page, HENAN[1][2])
    page.select_option("#wb-kind", "R")
    page.fill("#wb-title", "未附情形的要求")
    page.click("#wb-add-clause")
    page.wait_for_load_state()
    assert "程序要求须附于一个容错情形" in page.inner_text(".messages")
    for kind, title, words, derive, applies_to in HENAN:
        _clause(page, kind, title, words, derive, applies_to)
    row = page.locator("#wb-clauses tr", has_text="重大改革创新项目事先评估并备案")
    assert "附于情形「改革创新、大胆探索中出现的失误错误」" in row.inner_text()
    assert "二(一)1" in row.inner_text()  # the citation comes from where the words sit
    row = page.locator("#wb-clauses tr", has_text="特事特办措施经同级政府同意并事前报告")
    assert "附于情形「推动发展、担当作为中出现的失误错误」" in row.inner_text()

    version = page.locator("#wb-version")
    version.locator("input[name=title]").fill("关于建立容错纠错机制激励干部干事创业的意见")
    version.locator("input[name=issuer]").fill("中共河南省委办公厅")
    version.locator("input[name=doc_number]").fill("豫办〔2017〕28号")
    version.locator("input[name=jurisdiction]").fill("河南省")
    version.locator("input[name=effective_from]").fill("2017-07-12")
    version.locator("input[name=major_loss_threshold]").fill("500000")
    page.click("#wb-save-version")
    page.wait_for_load_state()
    assert "已保存版本说明" in page.inner_text(".messages")

    excluded_none = {"X1": "not_met", "X3": "not_met"}
    no_facts = {"loss_amount": 0, "prior_same_matter": []}
    _add_test(page, rid, "改革项目未报备案——不予容错", "2018-03-01",
              {"S1": "met", "R1": "not_met", "S2": "met", "R2": "not_met", "X2": "not_met", **excluded_none}, no_facts,
              "not_tolerable", ["R1", "R2"])
    _add_test(page, rid, "改革项目事先评估并备案——予以容错", "2018-03-01",
              {"S1": "met", "R1": "met", "X2": "not_met", **excluded_none}, no_facts, "tolerable", ["S1"])
    _add_test(page, rid, "造成 200 万元损失——不予容错", "2018-03-01",
              {"S1": "met", "R1": "met", **excluded_none}, {"loss_amount": 2_000_000, "prior_same_matter": []},
              "not_tolerable", ["X2"])
    assert page.locator(".wb-fail").count() == 0, page.inner_text("#wb-tests")
    first = page.locator("#wb-tests tr", has_text="改革项目未报备案")
    assert f"{rid}.R1 不符合" in first.locator("details").text_content()
    assert f"{rid}.X4 不符合" in first.locator("details").text_content()  # derived: no earlier case
    page.evaluate("() => document.getElementById('wb-clauses').scrollIntoView()")
    screenshot(page, "workbench-henan")


ANY_OF_TEXT = "第一条 因缺乏经验、先行先试或者政策界限不明出现失误的,予以容错。\n第二条 谋取私利的,不予容错。\n"


def test_an_any_of_compound_clause_marked_and_tested_in_the_browser(site, editors, tmp_path):
    rid = "anyof-workbench"
    source = tmp_path / "办法.txt"
    source.write_text(ANY_OF_TEXT, encoding="utf-8")
    page = site.login("wb_editor")
    page.goto("/workbench/")
    form = page.locator("#wb-upload")
    form.locator("input[name=ruleset_id]").fill(rid)
    form.locator("input[name=version_label]").fill("1")
    form.locator("input[name=document]").set_input_files(str(source))
    form.get_by_role("button", name="上传并识别条目").click()
    page.wait_for_url("**/workbench/*/")

    _select(page, "因缺乏经验、先行先试或者政策界限不明出现失误")
    page.select_option("#wb-kind", "S")
    page.fill("#wb-title", "探索中出现失误")
    page.select_option("#wb-combine", label="符合任一项即可")
    page.click("#wb-add-clause")
    page.wait_for_load_state()
    assert "已标出" in page.inner_text(".messages"), page.inner_text(".messages")
    for title in ("缺乏经验", "先行先试", "政策界限不明"):
        _select(page, title)
        page.fill("#wb-title", title)
        page.select_option("#wb-parent", label="容错情形：探索中出现失误（符合任一项即可）")
        page.click("#wb-add-clause")
        page.wait_for_load_state()
        assert "已标出" in page.inner_text(".messages"), page.inner_text(".messages")
    _clause(page, "X", "谋取私利", "谋取私利")
    row = page.locator("#wb-clauses tr", has_text="探索中出现失误").first
    assert "复合条款，分项符合任一项即可" in row.inner_text()

    version = page.locator("#wb-version")
    version.locator("input[name=title]").fill("办法")
    version.locator("input[name=issuer]").fill("某市委")
    version.locator("input[name=jurisdiction]").fill("某市")
    version.locator("input[name=effective_from]").fill("2020-01-01")
    page.click("#wb-save-version")
    page.wait_for_load_state()
    assert "已保存版本说明" in page.inner_text(".messages")

    _add_test(page, rid, "一项符合——予以容错", "2021-01-01", {"S1.2": "met", "X1": "not_met"}, None,
              "tolerable", ["S1"])
    _add_test(page, rid, "各项均不符合——不予容错", "2021-01-01",
              {"S1.1": "not_met", "S1.2": "not_met", "S1.3": "not_met", "X1": "not_met"}, None,
              "not_tolerable", ["S1", "S1.1", "S1.2", "S1.3"])
    _add_test(page, rid, "一项不符合、其余待查——尚不能认定", "2021-01-01", {"S1.1": "not_met", "X1": "not_met"},
              None, "undetermined", [])
    assert page.locator(".wb-fail").count() == 0, page.inner_text("#wb-tests")
    undetermined = page.locator("#wb-tests tr", has_text="尚不能认定").first
    assert "满足下列任一项" in undetermined.locator("details").text_content()
    page.evaluate("() => document.getElementById('wb-clauses').scrollIntoView()")
    screenshot(page, "workbench-any-of")
