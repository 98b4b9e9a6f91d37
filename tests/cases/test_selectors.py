"""The facts and findings the rule engine sees, computed from the case's own records."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, CaseState
from cases.selectors import case_evaluation, case_facts, case_findings, prior_same_matter
from tests.factories import (
    CaseFactory,
    FindingFactory,
    PersonFactory,
    case_in_state,
    findings_for,
    handler_of,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days_ago(n: int) -> dt.date:
    return TODAY() - dt.timedelta(days=n)


def test_facts_of_a_fresh_case_are_empty():
    case = CaseFactory()

    assert case_facts(case) == {"loss_amount": None, "disposition": None, "prior_same_matter": []}


def test_loss_and_disposition_are_facts():
    case = CaseFactory(loss_amount=Decimal("20000.50"), disposition="second")

    assert case_facts(case) == {"loss_amount": 20000.5, "disposition": "second", "prior_same_matter": []}


def test_an_earlier_decided_case_in_the_same_matter_is_a_prior():
    person = PersonFactory()
    earlier = case_in_state(CaseState.DECIDED, subject=person, conduct_date=days_ago(300))

    case = CaseFactory(subject=person, conduct_date=days_ago(30))

    # No accountability measure was recorded on the earlier case, so the record says nothing of one.
    assert prior_same_matter(case) == [{"case": earlier.reference, "date": days_ago(300).isoformat(),
                                        "measure": None, "measure_date": None}]
    assert case_facts(case)["prior_same_matter"] == prior_same_matter(case)


@pytest.mark.parametrize(("state", "category", "earlier_by", "why"), [
    (CaseState.PROPOSED, "environment", 270, "not yet decided"),
    (CaseState.WITHDRAWN, "environment", 270, "withdrawn"),
    (CaseState.DECIDED, "funds", 270, "another matter"),
    (CaseState.DECIDED, "environment", -10, "conduct after this case's"),
])
def test_what_is_not_a_prior(state, category, earlier_by, why):
    person = PersonFactory()
    case_in_state(state, subject=person, matter_category=category, conduct_date=days_ago(30 + earlier_by))

    case = CaseFactory(subject=person, matter_category="environment", conduct_date=days_ago(30))

    assert prior_same_matter(case) == [], why


def test_another_persons_decided_case_is_not_a_prior():
    case_in_state(CaseState.DECIDED, conduct_date=days_ago(300))

    assert prior_same_matter(CaseFactory(conduct_date=days_ago(30))) == []


def test_findings_are_keyed_by_clause_with_who_recorded_them():
    finding = FindingFactory(reasoning="调取会议纪要核实。")
    FindingFactory(case=finding.case, clause_id="zhangjiakou.S1", status="unknown", reasoning="")
    by = handler_of(finding.case).display_name()

    assert case_findings(finding.case) == {
        finding.clause_id: {"status": "met", "reasoning": "调取会议纪要核实。", "by": by},
        "zhangjiakou.S1": {"status": "unknown", "reasoning": "", "by": by},
    }


def test_a_case_without_findings_is_undetermined():
    evaluation = case_evaluation(case_in_state(CaseState.INVESTIGATING))

    assert evaluation.verdict == "undetermined"
    assert evaluation.outcomes == []
    assert evaluation.missing


@pytest.mark.parametrize(("verdict", "expected", "outcomes"), [
    ("tolerable", "tolerable", ["exempt", "lighter", "mitigated"]),
    ("refused", "not_tolerable", ["refused"]),
    ("excluded", "not_tolerable", ["refused"]),
])
def test_evaluation_follows_the_recorded_findings(verdict, expected, outcomes):
    case = case_in_state(CaseState.INVESTIGATING)
    for clause_id, status in findings_for(case, verdict=verdict).items():
        FindingFactory(case=case, clause_id=clause_id, status=status)

    evaluation = case_evaluation(case)

    assert evaluation.verdict == expected
    assert evaluation.outcomes == outcomes


def test_a_prior_case_counts_for_the_repeat_exclusion_only_after_accountability_or_a_reminder():
    # 张家口 附件2 三(九): 「在被问责或组织提醒后,仍因同一事由重复出现重大失误或过错的」.
    person = PersonFactory()
    earlier = case_in_state(CaseState.DECIDED, subject=person, conduct_date=days_ago(300))
    case = case_in_state(CaseState.INVESTIGATING, subject=person)
    findings = findings_for(case, verdict="tolerable")
    findings.pop("zhangjiakou.X9")  # derived from the system's own records
    for clause_id, status in findings.items():
        FindingFactory(case=case, clause_id=clause_id, status=status)

    # The earlier case does not say whether the cadre was held accountable: X9 is unknown, not met.
    evaluation = case_evaluation(case)
    assert evaluation.verdict == "undetermined"
    assert "zhangjiakou.X9" in [m["clause"] for m in evaluation.to_dict()["missing"]]

    # Held accountable before this conduct: X9 turns on once the new error is found to be a major one.
    Case.objects.filter(pk=earlier.pk).update(accountability_measure="accountability",
                                              accountability_measure_date=days_ago(200))
    FindingFactory(case=case, clause_id="zhangjiakou.X9", status="met")
    evaluation = case_evaluation(Case.objects.get(pk=case.pk))
    assert evaluation.verdict == "not_tolerable"
    assert "zhangjiakou.X9" in evaluation.decisive
