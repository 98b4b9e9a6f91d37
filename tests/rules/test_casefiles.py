"""The worked examples beside each rule set: facts in, verdict and deciding clauses out."""

from __future__ import annotations

from collections import defaultdict

import pytest

from rules.casefiles import all_cases, run_case
from rules.loader import registry

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.line}" for c in CASES])
def test_case_file_example_gives_expected_verdict_and_reasons(case):
    _ev, problems = run_case(case)
    assert not problems, f"{case.file}:{case.line} {case.name}: " + "；".join(problems)


def test_every_rule_set_has_case_file():
    with_cases = {c.ruleset for c in CASES}
    assert with_cases == set(registry().ids())


def test_zhangjiagang_chen_case_is_tolerated_with_exemption_open():
    case = next(c for c in CASES if "陈某" in c.name)
    ev, problems = run_case(case)
    assert not problems
    assert ev.verdict == "tolerable"
    assert "exempt" in ev.outcomes
    assert "263" in case.description


def test_every_clause_is_exercised_both_met_and_not_met():
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for case in CASES:
        ev, _ = run_case(case)
        for evaluation in (ev, ev.alternative):
            if evaluation is None:
                continue
            for item in evaluation.trace():
                seen[case.ruleset][item["clause"]].add(item["status"])
    gaps = []
    for family in registry().families():
        for version in family.versions:
            for clause in version.clauses:
                statuses = seen[family.id][clause.id]
                for wanted in ("met", "not_met"):
                    if wanted not in statuses:
                        gaps.append(f"{clause.id} 从未{'符合' if wanted == 'met' else '不符合'}")
    assert not gaps, "示例案件未覆盖：" + "；".join(sorted(set(gaps)))


def test_fixture_case_files_exercise_version_choice(testland):
    from tests.rules.conftest import FIXTURE_VERSIONS

    cases = all_cases(FIXTURE_VERSIONS / "cases")
    assert cases
    for case in cases:
        _ev, problems = run_case(case, reg=testland)
        assert not problems, f"{case.file}:{case.line} {case.name}: " + "；".join(problems)
