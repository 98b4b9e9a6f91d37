"""Engine semantics, derived clauses, version choice and reproducibility (no database)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rules.engine import ENGINE_VERSION, compare, evaluate, evaluate_version, pinned_version, reproduce
from rules.errors import (
    DateBeforeFirstVersionError,
    FactError,
    FindingError,
    InvalidDateError,
    PinMismatchError,
    UnknownRuleSetError,
)
from rules.loader import registry

SOURCES = Path(__file__).resolve().parents[2] / "rules" / "rulesets" / "sources"


def zjk(**overrides):
    findings = {f"zhangjiakou.P{i}": "met" for i in range(1, 8)}
    findings.update({f"zhangjiakou.X{i}": "not_met" for i in range(1, 11)})
    findings.update(overrides)
    return findings


def test_all_prerequisites_a_situation_and_no_exclusion_is_tolerable():
    ev = evaluate("zhangjiakou", zjk(**{"zhangjiakou.S9": "met"}), "2020-05-01")
    assert ev.verdict == "tolerable"
    assert ev.decisive == ["zhangjiakou.S9"]
    assert ev.outcomes == ["exempt", "lighter", "mitigated"]
    assert ev.missing == []


def test_situation_with_failed_requirement_does_not_hold():
    base = {"henan.P1": "met", "henan.P2": "met", "henan.P3": "met"}
    base.update({f"henan.X{i}": "not_met" for i in range(1, 5)})
    ev = evaluate("henan", {**base, "henan.S1": "met", "henan.R1": "not_met"}, "2018-01-01")
    assert ev.verdict == "undetermined"  # S2-S4 could still hold
    # One finding settles it (S3 or S4 met: tolerable); S2 would also need R2, so it is not in a smallest set.
    assert [m["clause"] for m in ev.missing] == ["henan.S3", "henan.S4"]
    ev = evaluate(
        "henan",
        {
            **base,
            "henan.S1": "met",
            "henan.R1": "not_met",
            "henan.S2": "not_met",
            "henan.S3": "not_met",
            "henan.S4": "not_met",
        },
        "2018-01-01",
    )
    assert ev.verdict == "not_tolerable"
    assert ev.decisive == ["henan.R1", "henan.S2", "henan.S3", "henan.S4"]


def test_requirement_unknown_is_missing_with_its_effect():
    base = {"henan.P1": "met", "henan.P2": "met", "henan.P3": "met", "henan.S1": "met"}
    base.update({f"henan.X{i}": "not_met" for i in range(1, 5)})
    ev = evaluate("henan", base, "2018-01-01")
    r1 = next(m for m in ev.missing if m["clause"] == "henan.R1")
    assert r1["if_met"] == "tolerable"
    assert r1["effect"].startswith("若认定符合：予以容错")


def test_met_exclusion_leaves_nothing_missing():
    ev = evaluate("zhangjiakou", {"zhangjiakou.X2": "met"}, "2020-05-01")
    assert ev.verdict == "not_tolerable"
    assert ev.decisive == ["zhangjiakou.X2"]
    assert ev.missing == []
    assert ev.outcomes == ["refused"]


def test_undetermined_is_never_a_guess_and_says_what_each_finding_would_do():
    ev = evaluate("zhangjiakou", {}, "2020-05-01")
    assert ev.verdict == "undetermined"
    assert ev.outcomes == []
    kinds = {m["kind"] for m in ev.missing}
    assert kinds == {"P", "X"}  # one prerequisite not met or one exclusion met settles it; no situation does
    p5 = next(m for m in ev.missing if m["clause"] == "zhangjiakou.P5")
    assert p5["if_not_met"] == "not_tolerable"


def test_trace_quotes_text_and_citation_for_every_clause():
    ev = evaluate("zhangjiakou", zjk(**{"zhangjiakou.S9": "met"}), "2020-05-01")
    trace = ev.to_dict()["trace"]
    assert len(trace) == 29
    s9 = next(t for t in trace if t["clause"] == "zhangjiakou.S9")
    assert s9["citation"] == "附件2 一、容错情形第9项"
    assert "“一会三函”" in s9["text"]
    assert s9["status"] == "met"
    assert s9["source"]["type"] == "attested"


def test_attested_finding_records_who_and_why():
    findings = zjk(**{"zhangjiakou.S9": {"status": "met", "reasoning": "冬奥项目", "by": "调查组 张三"}})
    trace = {t["clause"]: t for t in evaluate("zhangjiakou", findings, "2020-05-01").trace()}
    assert trace["zhangjiakou.S9"]["source"]["attested"] == {
        "status": "met",
        "by": "调查组 张三",
        "reasoning": "冬奥项目",
    }
    assert "张三" in trace["zhangjiakou.S9"]["source"]["label"]


# 张家口 附件2 二、第9项：「在被问责或组织提醒后,仍因同一事由重复出现重大失误或过错的」
X9_TEXT = "在被问责或组织提醒后,仍因同一事由重复出现重大失误或过错的"


def _x9(ev):
    return next(t for t in ev.trace() if t["clause"] == "zhangjiakou.X9")


def _without_x9(**overrides):
    findings = zjk(**{"zhangjiakou.S3": "met"})
    del findings["zhangjiakou.X9"]
    return findings | overrides


def test_x9_earlier_case_that_ended_without_accountability_or_reminder_is_no_repeat():
    assert registry().version("zhangjiakou", "2019").clause("zhangjiakou.X9").text == X9_TEXT
    # The earlier case was tolerated and exempt: the cadre was never "被问责或组织提醒".
    prior = [{"case": "A-1", "date": "2019-05-01", "measure": "none"}]
    ev = evaluate("zhangjiakou", _without_x9(), "2021-01-01", facts={"prior_same_matter": prior})
    assert ev.status("zhangjiakou.X9") == "not_met"
    assert ev.verdict == "tolerable"


def test_x9_earlier_case_without_a_recorded_measure_leaves_x9_unknown_not_met():
    prior = [{"case": "A-1", "date": "2019-05-01"}]
    ev = evaluate("zhangjiakou", _without_x9(), "2021-01-01", facts={"prior_same_matter": prior})
    x9 = _x9(ev)
    assert x9["status"] == "unknown"
    assert x9["source"]["type"] == "derived"
    assert "未记录是否问责或组织提醒" in x9["source"]["label"]
    assert ev.verdict == "undetermined"
    prior = [{"case": "A-1", "date": "2019-05-01", "measure": "reminder"}]  # measured, but no date
    ev = evaluate("zhangjiakou", _without_x9(), "2021-01-01", facts={"prior_same_matter": prior})
    assert ev.status("zhangjiakou.X9") == "unknown"
    assert "未记录日期" in _x9(ev)["source"]["label"]


def test_x9_compares_the_new_conduct_with_the_date_of_the_accountability_not_of_the_earlier_conduct():
    # Earlier conduct 2020-06, but the accountability came only on 2021-03, after this conduct.
    prior = [{"case": "B-2", "date": "2020-06-01", "measure": "accountability", "measure_date": "2021-03-01"}]
    ev = evaluate("zhangjiakou", _without_x9(), "2021-01-01", facts={"prior_same_matter": prior})
    assert ev.status("zhangjiakou.X9") == "not_met"


def test_x9_accountability_before_the_conduct_needs_a_finding_that_the_new_error_is_major():
    prior = [
        {"case": "A-1", "date": "2019-01-01", "measure": "accountability", "measure_date": "2019-03-01"},
        {"case": "B-2", "date": "2022-01-01", "measure": "reminder", "measure_date": "2022-02-01"},
    ]
    facts = {"prior_same_matter": prior}
    ev = evaluate("zhangjiakou", _without_x9(), "2021-01-01", facts=facts)
    x9 = _x9(ev)
    # Not assumed met: whether this error is "重大失误或过错" is the investigator's finding.
    assert x9["status"] == "unknown"
    assert "A-1" in x9["source"]["label"] and "B-2" not in x9["source"]["label"]
    assert "重大失误或过错" in x9["source"]["label"]
    assert ev.verdict == "undetermined"
    assert [m["clause"] for m in ev.missing] == ["zhangjiakou.X9"]
    found = _without_x9(**{"zhangjiakou.X9": {"status": "met", "reasoning": "再次出现同类重大失误"}})
    ev = evaluate("zhangjiakou", found, "2021-01-01", facts=facts)
    assert ev.verdict == "not_tolerable" and ev.decisive == ["zhangjiakou.X9"]
    ev = evaluate("zhangjiakou", _without_x9(**{"zhangjiakou.X9": "not_met"}), "2021-01-01", facts=facts)
    assert ev.verdict == "tolerable"


def test_repeat_of_the_same_matter_is_derived_from_earlier_cases_before_the_conduct():
    # 河南 二(二)4「同类问题连续出现失误过错的」: any earlier case of the same matter, by its date.
    findings = {f"henan.P{i}": "met" for i in (1, 2, 3)} | {"henan.S3": "met"}
    findings |= {f"henan.X{i}": "not_met" for i in (1, 2, 3)}
    prior = [{"case": "A-1", "date": "2019-01-01"}, {"case": "B-2", "date": "2022-01-01"}]
    ev = evaluate("henan", findings, "2021-01-01", facts={"prior_same_matter": prior})
    x4 = next(t for t in ev.trace() if t["clause"] == "henan.X4")
    assert x4["status"] == "met"
    assert x4["source"]["type"] == "derived"
    assert "A-1" in x4["source"]["label"] and "B-2" not in x4["source"]["label"]
    ev = evaluate("henan", findings, "2020-01-01", facts={"prior_same_matter": prior[1:]})
    assert ev.status("henan.X4") == "not_met"


def _zjg(**overrides):
    findings = {f"zhangjiagang.P{i}": "met" for i in (1, 2, 3, 5, 6)} | {"zhangjiagang.S1": "met"}
    return findings | overrides


def test_zhangjiagang_p4_an_earlier_case_alone_does_not_defeat_it():
    # 张家港 前置条件第4项：「未在同一工作、同一问题上重复出现失误且造成较大损失或较坏影响」
    p4 = registry().version("zhangjiagang", "2017").clause("zhangjiagang.P4")
    assert p4.text == "未在同一工作、同一问题上重复出现失误且造成较大损失或较坏影响"
    facts = {"prior_same_matter": [{"case": "张港纪〔2017〕21号", "date": "2017-09-01"}]}
    ev = evaluate("zhangjiagang", _zjg(), "2018-06-01", facts=facts)
    assert ev.status("zhangjiagang.P4") == "unknown"  # the repeat must also have caused 较大损失或较坏影响
    assert ev.verdict == "undetermined"
    assert [m["clause"] for m in ev.missing] == ["zhangjiagang.P4"]
    no_harm = _zjg(**{"zhangjiagang.P4": "met"})
    assert evaluate("zhangjiagang", no_harm, "2018-06-01", facts=facts).verdict == "tolerable"
    harm = _zjg(**{"zhangjiagang.P4": "not_met"})
    assert evaluate("zhangjiagang", harm, "2018-06-01", facts=facts).verdict == "not_tolerable"
    ev = evaluate("zhangjiagang", _zjg(), "2018-06-01", facts={"prior_same_matter": []})
    assert ev.status("zhangjiagang.P4") == "met"


def test_overriding_derived_met_with_not_met_requires_a_reason():
    facts = {"prior_same_matter": [{"case": "A-1", "date": "2019-01-01"}]}
    findings = {f"henan.P{i}": "met" for i in (1, 2, 3)} | {"henan.S3": "met"}
    findings |= {f"henan.X{i}": "not_met" for i in (1, 2, 3, 4)}
    with pytest.raises(FindingError) as exc:
        evaluate("henan", findings, "2021-01-01", facts=facts)
    assert exc.value.clause_id == "henan.X4"
    assert "须写明理由" in str(exc.value)
    findings["henan.X4"] = {"status": "not_met", "reasoning": "前案事由与本案不同", "by": "调查组"}
    ev = evaluate("henan", findings, "2021-01-01", facts=facts)
    assert ev.verdict == "tolerable"
    x4 = next(t for t in ev.trace() if t["clause"] == "henan.X4")
    assert x4["source"]["type"] == "attested_over_derived"
    assert x4["source"]["derived"]["status"] == "met"
    assert x4["source"]["attested"]["reasoning"] == "前案事由与本案不同"


def test_attesting_an_earlier_warning_outside_the_records_needs_no_reason():
    findings = zjk(**{"zhangjiakou.S3": "met", "zhangjiakou.X9": "met"})
    ev = evaluate("zhangjiakou", findings, "2021-01-01", facts={"prior_same_matter": []})
    assert ev.verdict == "not_tolerable"
    x9 = next(t for t in ev.trace() if t["clause"] == "zhangjiakou.X9")
    assert x9["source"]["derived"]["status"] == "not_met"
    assert x9["source"]["attested"]["status"] == "met"


def test_findings_alone_are_taken_as_stated():
    findings = zjk(**{"zhangjiakou.S3": "met"})
    ev = evaluate("zhangjiakou", findings, "2021-01-01")
    assert ev.status("zhangjiakou.X9") == "not_met"
    assert ev.verdict == "tolerable"


def test_third_form_disposition_excludes_under_hohhot():
    ev = evaluate(
        "hohhot",
        {"hohhot.S2": "met", "hohhot.X2": "not_met", "hohhot.X3": "not_met"},
        "2020-01-01",
        facts={"disposition": "fourth"},
    )
    assert ev.verdict == "not_tolerable"
    assert ev.decisive == ["hohhot.X1"]
    ev = evaluate(
        "hohhot",
        {"hohhot.S2": "met", "hohhot.X2": "not_met", "hohhot.X3": "not_met"},
        "2020-01-01",
        facts={"disposition": "first"},
    )
    assert ev.verdict == "tolerable"


def test_major_loss_uses_the_configured_threshold_parameter():
    findings = zjk(**{"zhangjiakou.S9": "met"})
    del findings["zhangjiakou.P6"]
    ev = evaluate("zhangjiakou", findings, "2020-01-01", facts={"loss_amount": 600_000})
    assert ev.status("zhangjiakou.P6") == "not_met"
    label = next(t for t in ev.trace() if t["clause"] == "zhangjiakou.P6")["source"]["label"]
    assert "500,000" in label and "配置值，非文件规定" in label
    # No document establishes a later version: a later conduct date stays under the 2019 regulation.
    ev = evaluate("zhangjiakou", findings, "2025-06-01", facts={"loss_amount": 600_000})
    assert ev.version.version == "2019"
    assert ev.status("zhangjiakou.P6") == "not_met"


def test_shipped_zhangjiakou_has_only_the_version_its_document_establishes():
    family = registry().family("zhangjiakou")
    assert [v.version for v in family.versions] == ["2019"]
    assert family.versions[0].effective_to is None
    ev = evaluate("zhangjiakou", zjk(**{"zhangjiakou.S9": "met"}), "2022-06-01", decision_date="2026-02-01")
    assert ev.version.version == "2019"
    assert ev.alternative is None


def test_later_more_favourable_version_applies_and_both_traces_are_shown(testland):
    ev = evaluate(
        "testland",
        {"testland.P2": "met", "testland.S1": "met"},
        "2022-06-01",
        facts={"loss_amount": 800_000, "prior_same_matter": []},
        decision_date="2023-02-01",
        reg=testland,
    )
    data = ev.to_dict()
    assert data["version"] == "2"
    assert data["version_choice"]["principle"] == "从旧兼从轻"
    assert data["version_choice"]["applied"] == "2"
    assert data["alternative"]["version"] == "1"
    assert data["alternative"]["verdict"] == "not_tolerable"
    assert data["alternative"]["trace"]


def test_later_version_not_more_favourable_keeps_the_old_one(testland):
    findings = {"testland.P1": "met", "testland.P2": "met", "testland.S1": "met", "testland.X1": "not_met"}
    ev = evaluate("testland", findings, "2022-06-01", decision_date="2023-02-01", reg=testland)
    assert ev.version.version == "1"
    assert ev.alternative is None
    assert ev.version_choice["applied"] == "1"


def test_date_before_first_version_is_an_error_not_the_latest():
    with pytest.raises(DateBeforeFirstVersionError) as exc:
        evaluate("zhangjiakou", {}, "2018-01-01")
    assert "张字〔2017〕17号" in str(exc.value)
    with pytest.raises(DateBeforeFirstVersionError):
        registry().version_for("henan", "2017-07-11")


@pytest.mark.parametrize(
    ("call", "error", "offender"),
    [
        (lambda: evaluate("nowhere", {}, "2020-01-01"), UnknownRuleSetError, "nowhere"),
        (lambda: evaluate("henan", {"henan.P9": "met"}, "2020-01-01"), FindingError, "henan.P9"),
        (lambda: evaluate("henan", {"henan.P1": "yes"}, "2020-01-01"), FindingError, "'yes'"),
        (lambda: evaluate("henan", {}, "2020-02-30"), InvalidDateError, "2020-02-30"),
        (lambda: evaluate("henan", {}, "2020-01-01", facts={"disposition": "fifth"}), FactError, "fifth"),
        (lambda: evaluate("henan", {}, "2020-01-01", facts={"loss_amount": -1}), FactError, "-1"),
    ],
)
def test_bad_input_names_the_offender_in_one_line(call, error, offender):
    with pytest.raises(error) as exc:
        call()
    assert offender in str(exc.value)
    assert "\n" not in str(exc.value)


def test_compound_clause_cannot_be_attested_whole_and_by_parts():
    with pytest.raises(FindingError, match="hohhot.S1"):
        evaluate("hohhot", {"hohhot.S1": "met", "hohhot.S1.2": "met"}, "2020-01-01")
    ev = evaluate(
        "hohhot",
        {"hohhot.S1": "met", "hohhot.X2": "not_met", "hohhot.X3": "not_met"},
        "2020-01-01",
        facts={"disposition": "first"},
    )
    assert ev.verdict == "tolerable"


def test_compound_situation_fails_when_one_embedded_condition_fails():
    findings = {f"hohhot.S1.{i}": "met" for i in (1, 2, 3, 5)}
    findings.update({"hohhot.X2": "not_met", "hohhot.X3": "not_met"})
    ev = evaluate("hohhot", findings, "2020-01-01", facts={"loss_amount": 2_000_000, "disposition": "first"})
    assert ev.status("hohhot.S1.4") == "not_met"
    assert ev.status("hohhot.S1") == "not_met"
    assert ev.verdict == "undetermined"  # S2-S6 remain open


def test_mitigation_grounds_do_not_change_the_verdict():
    base = {"hohhot.S2": "met", "hohhot.X2": "not_met", "hohhot.X3": "not_met"}
    a = evaluate("hohhot", base, "2020-01-01", facts={"disposition": "first"})
    b = evaluate("hohhot", {**base, "hohhot.M3": "met"}, "2020-01-01", facts={"disposition": "first"})
    assert a.verdict == b.verdict == "tolerable"
    assert b.mitigation == ["hohhot.M3"]


def test_common_question_answers_map_to_each_rule_set():
    results = compare(
        ["zhangjiakou", "henan", "hohhot"],
        {},
        "2020-06-01",
        answers={"private_gain": "yes"},
        facts={"disposition": "first"},
    )
    verdicts = {ev.ruleset_id: ev for ev in results}
    assert verdicts["zhangjiakou"].verdict == "not_tolerable"  # X2 以权谋私, P4 not met
    assert "zhangjiakou.X2" in verdicts["zhangjiakou"].decisive
    assert "henan.P1" in verdicts["henan"].decisive
    # Hohhot has no prerequisite on private gain: only its first situation fails, others stay open.
    assert verdicts["hohhot"].verdict == "undetermined"
    assert verdicts["hohhot"].status("hohhot.S1") == "not_met"


def test_compare_routes_findings_to_their_rule_set():
    results = compare(["zhangjiakou", "henan"], {"henan.X1": "met"}, "2020-06-01")
    assert results[0].verdict == "undetermined"
    assert results[1].verdict == "not_tolerable"
    with pytest.raises(FindingError, match="hohhot.S1"):
        compare(["zhangjiakou", "henan"], {"hohhot.S1": "met"}, "2020-06-01")


def test_evaluation_pins_version_hash_and_engine_and_reproduces():
    findings = zjk(**{"zhangjiakou.S9": "met"})
    stored = json.loads(json.dumps(evaluate("zhangjiakou", findings, "2020-05-01").to_dict()))
    assert stored["engine_version"] == ENGINE_VERSION
    assert stored["content_hash"].startswith("sha256:")
    again, same = reproduce(stored, findings)
    assert same and again.verdict == "tolerable"


def test_pinned_version_detects_a_changed_file_and_snapshot_reproduces_it():
    version = registry().version("zhangjiakou", "2019")
    snapshot = json.loads(json.dumps(version.snapshot()))
    with pytest.raises(PinMismatchError):
        pinned_version("zhangjiakou", "2019", "sha256:" + "0" * 64)
    # The rule file changes later; the stored snapshot still rebuilds the exact version.
    rebuilt = pinned_version("zhangjiakou", "2019", version.content_hash, snapshot=snapshot)
    assert rebuilt.content_hash == version.content_hash
    tampered = {**snapshot, "clauses": snapshot["clauses"][:-1]}
    with pytest.raises(PinMismatchError):
        pinned_version("zhangjiakou", "2019", version.content_hash, snapshot=tampered)
    ev = evaluate_version(rebuilt, zjk(**{"zhangjiakou.S9": "met"}), conduct_date="2020-01-01")
    assert ev.verdict == "tolerable"


def _normalised_source(name: str) -> str:
    text = (SOURCES / name).read_text(encoding="utf-8")
    text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", text)  # pinyin glosses in the Hohhot page
    return re.sub(r"\s+", "", text)


def test_verbatim_clause_texts_appear_in_their_source_documents():
    problems = []
    for family in registry().families():
        for version in family.versions:
            for clause in version.clauses:
                if not clause.verbatim:
                    continue
                source = clause.source or version.source
                if clause.ruleset != version.id:
                    continue  # inherited clauses are checked under their own rule set
                text = clause.text
                for c in clause.corrections:
                    text = text.replace(c.corrected, c.original)
                if re.sub(r"\s+", "", text) not in _normalised_source(source):
                    problems.append(f"{clause.id}: {clause.text}")
    assert not problems, "条文与原文不一致：" + "；".join(problems)


def test_hohhot_conduct_before_the_eighteenth_congress_is_evaluated_and_m1_can_apply():
    # 呼和浩特 二、10.：「對于違規違紀違法行為發生在黨的十八大以前,本人有深刻檢討并主動改正的」… 予以從輕減輕處理
    version = registry().version("hohhot", "2019")
    assert "發生在黨的十八大以前" in version.clause("hohhot.M1").text
    assert version.governs_earlier_conduct
    findings = {"hohhot.S2": "met", "hohhot.X2": "not_met", "hohhot.X3": "not_met", "hohhot.M1": "met"}
    ev = evaluate("hohhot", findings, "2011-05-01", facts={"disposition": "first"}, decision_date="2020-01-01")
    assert ev.version.version == "2019"
    assert ev.verdict == "tolerable"
    assert ev.mitigation == ["hohhot.M1"]
    data = ev.to_dict()
    assert data["version_choice"]["principle"] == "施行前的行为"
    assert data["version_choice"]["applied"] == "2019"
    assert "十八大以前" in data["version_choice"]["explanation"]
    assert "行为早于本规则集施行" in data["summary"]


def test_conduct_before_a_version_that_governs_earlier_conduct_needs_the_decision_date():
    with pytest.raises(DateBeforeFirstVersionError) as exc:
        evaluate("hohhot", {}, "2011-05-01")
    assert "决定日期" in str(exc.value)


def test_conduct_before_zhangjiakou_stays_an_error_naming_the_2017_interim_rules():
    # 张家口 第二十条：「…《张家口市激励干部担当干事的暂行规定》(张字〔2017〕17号)同时废止」: text not held.
    with pytest.raises(DateBeforeFirstVersionError) as exc:
        evaluate("zhangjiakou", {}, "2018-01-01", decision_date="2023-06-01")
    assert "张字〔2017〕17号" in str(exc.value)


def test_snapshot_of_a_version_governing_earlier_conduct_round_trips():
    version = registry().version("hohhot", "2019")
    snapshot = json.loads(json.dumps(version.snapshot()))
    rebuilt = pinned_version("hohhot", "2019", version.content_hash, snapshot=snapshot)
    assert rebuilt.governs_earlier_conduct and rebuilt.earlier_conduct_basis == version.earlier_conduct_basis
    # Versions that do not declare it keep the hash their stored snapshots were pinned with.
    assert "governs_earlier_conduct" not in registry().version("henan", "2017").snapshot()


def test_zhangjiagang_refusal_on_a_prerequisite_says_it_rests_on_a_default_rule():
    # 张家港 报道：「容错免责一般应同时具备6项“前置条件”」「如果突破了这6条“红线”,原则上不进行容错免责」
    source = _normalised_source("zhangjiagang-2017-report.txt")
    assert "容错免责一般应同时具备6项“前置条件”" in source
    assert "如果突破了这6条“红线”,原则上不进行容错免责" in source
    ev = evaluate("zhangjiagang", _zjg(**{"zhangjiagang.P3": "not_met", "zhangjiagang.P4": "met"}), "2018-06-01")
    assert ev.verdict == "not_tolerable" and ev.decisive == ["zhangjiagang.P3"]
    data = ev.to_dict()
    assert data["rests_on_default"] is True
    assert data["default_rule"]["clauses"] == ["zhangjiagang.P3"]
    assert any("原则上不进行容错免责" in b for b in data["default_rule"]["basis"])
    assert "原则性规定" in data["summary"]


def test_refusal_also_resting_on_an_absolute_clause_does_not_rest_on_a_default():
    findings = _zjg(**{"zhangjiagang.P3": "not_met", "zhangjiagang.P4": "met", "zhangjiagang.S1": "not_met"})
    data = evaluate("zhangjiagang", findings, "2018-06-01").to_dict()
    assert data["decisive"] == ["zhangjiagang.P3", "zhangjiagang.S1"]
    assert data["rests_on_default"] is False
    assert data["default_rule"]["clauses"] == ["zhangjiagang.P3"] and data["default_rule"]["only"] is False
    # Rule sets whose documents state no default never rest on one.
    ev = evaluate("zhangjiakou", {"zhangjiakou.P1": "not_met"}, "2020-05-01")
    assert ev.to_dict()["rests_on_default"] is False and ev.to_dict()["default_rule"] is None


def test_zhejiang_three_distinctions_citation_names_the_henan_document_and_article():
    # 豫办〔2017〕28号 一(一)：「把干部在推进改革中因缺乏经验、先行先试出现的失误错误,同明知故犯的违纪违法行为区分开来」
    assert "因缺乏经验、先行先试出现的失误错误,同明知故犯的违纪违法行为区分开来" in _normalised_source(
        "henan-2017-yuban-28.txt"
    )
    ev = evaluate("zhejiang", {}, "2019-01-01")
    trace = {t["clause"]: t for t in ev.to_dict()["trace"]}
    for cid in ("zhejiang.S1", "zhejiang.S2", "zhejiang.S3", "zhejiang.X1", "zhejiang.X2", "zhejiang.X3"):
        assert "豫办〔2017〕28号" in trace[cid]["citation"], cid
        assert "一(一)" in trace[cid]["citation"], cid


def test_department_example_negative_items_are_shown_as_examples_not_as_a_negative_list():
    # 浙江报道「选人用人释放强烈信号」一节：「有些干部不作为,虽然嘴上讲实干,行动上却不如此」— not a negative list.
    assert "有些干部不作为,虽然嘴上讲实干,行动上却不如此" in _normalised_source("zhejiang-2018-opinions-report.txt")
    ev = evaluate("zhejiang-dept-example", {}, "2019-01-01")
    trace = {t["clause"]: t for t in ev.to_dict()["trace"]}
    for cid in ("zhejiang-dept-example.X1", "zhejiang-dept-example.X2", "zhejiang-dept-example.X3"):
        assert trace[cid]["example"] is True
        assert "示例" in trace[cid]["citation"] and "非负面清单原文" in trace[cid]["citation"]
        assert "选人用人释放强烈信号" in trace[cid]["citation"]
    assert trace["zhejiang.P1"]["example"] is False


def test_missing_with_p5_unknown_and_no_situation_lists_only_what_can_settle_the_verdict():
    # rules/README.md: `missing` lists the unknown clauses in some smallest set of findings that settles the verdict.
    findings = zjk()
    del findings["zhangjiakou.P5"]
    ev = evaluate("zhangjiakou", findings, "2020-05-01")
    assert ev.verdict == "undetermined"
    assert [m["clause"] for m in ev.missing] == ["zhangjiakou.P5"]  # not S1-S12: none settles it alone
    ev = evaluate("zhangjiakou", zjk(), "2020-05-01")  # P5 now met: each situation alone would settle it
    assert [m["clause"] for m in ev.missing] == [f"zhangjiakou.S{i}" for i in range(1, 13)]


def test_missing_when_no_single_finding_settles_lists_the_smallest_pairs():
    base = {f"henan.P{i}": "met" for i in (1, 2, 3)} | {f"henan.X{i}": "not_met" for i in range(1, 5)}
    ev = evaluate("henan", base | {"henan.S3": "not_met", "henan.S4": "not_met"}, "2018-01-01")
    # S1+R1 or S2+R2 (tolerable), or one of S1/R1 with one of S2/R2 not met (not tolerable): two findings.
    assert [m["clause"] for m in ev.missing] == ["henan.S1", "henan.R1", "henan.S2", "henan.R2"]
