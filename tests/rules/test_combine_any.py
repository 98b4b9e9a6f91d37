"""Compound clauses whose parts combine as "any of" (``combine: any``), on the invented ``anyland``
rule set under ``fixtures/anyof`` (never in ``rules/rulesets``)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings

from rules.diff import diff_versions
from rules.engine import evaluate_version
from rules.errors import RuleSetLoadError
from rules.loader import check_directory, load_registry, registry
from rules.snapshot import version_from_snapshot
from tests.rules.test_properties import _smallest_settling_sets, few_unknowns

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ANYLAND = load_registry(FIXTURES / "anyof").version("anyland", "1")
# Findings under which everything but the clause a test looks at is settled in the cadre's favour.
SETTLED = {
    "anyland.P1.1": "met",
    "anyland.X1.1": "not_met",
    "anyland.X1.2": "not_met",
    "anyland.S2.1": "not_met",
}


def test_the_fixture_declares_any_and_all_compounds():
    combines = {c.id: c.combine for c in ANYLAND.clauses if c.parts}
    assert combines == {
        "anyland.P1": "any",
        "anyland.S1": "any",
        "anyland.S2": "all",
        "anyland.X1": "any",
        "anyland.R1": "any",
    }


def test_any_clause_is_met_by_one_part_while_the_others_are_unknown_or_not_met():
    ev = evaluate_version(ANYLAND, {**SETTLED, "anyland.S1.2": "met", "anyland.S1.3": "not_met"})
    assert ev.status("anyland.S1") == "met"
    assert ev.status("anyland.S1.1") == "unknown"
    assert ev.verdict == "tolerable"
    assert ev.decisive == ["anyland.S1"]
    assert ev.missing == []


def test_any_clause_is_not_met_only_when_every_part_is_not_met():
    ev = evaluate_version(
        ANYLAND, {**SETTLED, "anyland.S1.1": "not_met", "anyland.S1.2": "not_met", "anyland.S1.3": "not_met"}
    )
    assert ev.status("anyland.S1") == "not_met"
    assert ev.verdict == "not_tolerable"
    # No situation can hold: each situation and the parts that ruled it out decide.
    assert ev.decisive[:4] == ["anyland.S1", "anyland.S1.1", "anyland.S1.2", "anyland.S1.3"]


def test_any_clause_is_unknown_otherwise_and_its_unknown_parts_are_missing():
    ev = evaluate_version(ANYLAND, {**SETTLED, "anyland.S1.1": "not_met"})
    assert ev.status("anyland.S1") == "unknown"
    assert ev.verdict == "undetermined"
    missing = {m["clause"]: m for m in ev.missing}
    assert set(missing) == {"anyland.S1.2", "anyland.S1.3"}
    # One part met makes the situation hold; one part not met leaves the other part open.
    assert missing["anyland.S1.2"]["if_met"] == "tolerable"
    assert missing["anyland.S1.2"]["if_not_met"] == "undetermined"


def test_prerequisite_any_of_refuses_only_when_every_part_is_not_met():
    one = evaluate_version(ANYLAND, {**SETTLED, "anyland.P1.1": "not_met", "anyland.S1.1": "met"})
    assert one.status("anyland.P1") == "unknown"
    assert one.verdict == "undetermined"
    assert [m["clause"] for m in one.missing] == ["anyland.P1.2"]
    assert one.missing[0]["if_met"] == "tolerable"
    assert one.missing[0]["if_not_met"] == "not_tolerable"
    both = evaluate_version(
        ANYLAND, {**SETTLED, "anyland.P1.1": "not_met", "anyland.P1.2": "not_met", "anyland.S1.1": "met"}
    )
    assert both.verdict == "not_tolerable"
    assert both.decisive == ["anyland.P1", "anyland.P1.1", "anyland.P1.2"]


def test_exclusion_any_of_refuses_on_one_part_met():
    ev = evaluate_version(ANYLAND, {**SETTLED, "anyland.X1.2": "met", "anyland.S1.1": "met"})
    assert ev.status("anyland.X1") == "met"
    assert ev.verdict == "not_tolerable"
    assert ev.decisive == ["anyland.X1", "anyland.X1.2"]


def test_requirement_any_of_lets_its_situation_hold_on_one_part():
    findings = {**SETTLED, "anyland.S1.1": "not_met", "anyland.S1.2": "not_met", "anyland.S1.3": "not_met",
                "anyland.S2.1": "met", "anyland.S2.2": "met"}
    open_req = evaluate_version(ANYLAND, findings)
    assert open_req.verdict == "undetermined"
    assert {m["clause"] for m in open_req.missing} == {"anyland.R1.1", "anyland.R1.2"}
    held = evaluate_version(ANYLAND, {**findings, "anyland.R1.2": "met"})
    assert held.verdict == "tolerable"
    assert held.decisive == ["anyland.S2"]


def test_explanation_says_any_of_or_all_of():
    ev = evaluate_version(ANYLAND, {**SETTLED, "anyland.S1.2": "met"})
    labels = {t["clause"]: t["source"]["label"] for t in ev.to_dict()["trace"]}
    assert "满足下列任一项" in labels["anyland.S1"]
    assert "须全部符合" in labels["anyland.S2"]
    assert "须全部符合" not in labels["anyland.S1"]


def test_any_clause_snapshot_round_trips_with_its_hash():
    snapshot = ANYLAND.snapshot()
    s1 = next(c for c in snapshot["clauses"] if c["id"] == "anyland.S1")
    s2 = next(c for c in snapshot["clauses"] if c["id"] == "anyland.S2")
    assert s1["combine"] == "any"
    assert "combine" not in s2  # the default is not written, so existing snapshots keep their hash
    rebuilt = version_from_snapshot(json.loads(json.dumps(snapshot)), expected_hash=ANYLAND.content_hash)
    assert rebuilt.content_hash == ANYLAND.content_hash
    assert rebuilt.clause("anyland.S1").combine == "any"
    findings = {**SETTLED, "anyland.S1.3": "met"}
    assert evaluate_version(rebuilt, findings).verdict == evaluate_version(ANYLAND, findings).verdict == "tolerable"


def test_changing_combine_changes_the_hash_and_shows_in_the_diff():
    clauses = tuple(replace(c, combine="all") if c.id == "anyland.S1" else c for c in ANYLAND.clauses)
    as_all = replace(ANYLAND, clauses=clauses, version="2")
    diff = diff_versions(ANYLAND, as_all)
    [change] = diff.changed
    assert change.clause == "anyland.S1"
    assert change.fields == [{"field": "combine", "label": "分项组合方式", "old": "any", "new": "all"}]


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copy(FIXTURES / "anyof" / "anyland-1.yaml", tmp_path / "anyland-1.yaml")
    path = tmp_path / "anyland-1.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def test_a_combine_other_than_all_or_any_is_refused_naming_file_and_clause(tmp_path):
    directory = _copy_with(tmp_path, "    combine: any\n    parts:\n      - id: anyland.S1.1",
                           "    combine: either\n    parts:\n      - id: anyland.S1.1")
    found = [str(p) for p in check_directory(directory)]
    assert len(found) == 1
    assert "anyland-1.yaml:33: " in found[0]
    assert found[0].endswith("条款 anyland.S1 的 combine 应为 all 或 any，实为 'either'")
    with pytest.raises(RuleSetLoadError):
        load_registry(directory)


def test_combine_without_parts_or_on_a_part_is_refused(tmp_path):
    directory = _copy_with(tmp_path, "    text: 出于公心\n", "    text: 出于公心\n        combine: any\n")
    found = [str(p) for p in check_directory(directory)]
    assert any("分项中未知字段 combine" in p for p in found), found


def test_every_shipped_rule_set_keeps_its_content_hash():
    # The hashes decided cases are pinned to; ``combine: all`` is the default and is never written, so
    # adding the key changed none of them. A deliberate edit of a shipped rule file updates this list.
    expected = json.loads((FIXTURES / "shipped_hashes.json").read_text(encoding="utf-8"))
    actual = {f"{v.id}@{v.version}": v.content_hash for f in registry().families() for v in f.versions}
    assert actual == expected
    assert all("combine" not in c for v in registry().families() for x in v.versions
               for c in x.snapshot()["clauses"])


@settings(max_examples=200, deadline=None)
@given(few_unknowns(versions=[ANYLAND], most=5))
def test_missing_is_exactly_the_clauses_of_the_smallest_settling_finding_sets_with_any_of(case):
    version, findings, open_ids = case
    ev = evaluate_version(version, findings)
    listed = {m["clause"] for m in ev.missing}
    if ev.verdict != "undetermined":
        assert listed == set()
        return
    assert listed == _smallest_settling_sets(version, findings, open_ids)


@pytest.fixture
def anyland_registry(monkeypatch: pytest.MonkeyPatch):
    from rules import registry as registry_module

    monkeypatch.setattr(registry_module, "_registry", load_registry(FIXTURES / "anyof"))


@pytest.mark.django_db
def test_rule_set_page_says_how_each_compound_clause_combines(client, world, anyland_registry):
    from django.urls import reverse

    client.force_login(world.users["inspector"])
    html = client.get(reverse("rules:detail", args=["anyland"])).content.decode()
    assert html.count("满足下列任一项即符合：") == 4  # P1, S1, X1, R1
    assert html.count("下列各项须全部符合：") == 1  # S2
