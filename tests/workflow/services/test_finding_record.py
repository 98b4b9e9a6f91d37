"""services.finding_record: an investigator's met / not met / unknown on one clause, with reasoning."""

import pytest

from cases.models import CaseState, Finding
from tests.factories import FindingFactory, PersonFactory, actor, case_in_state, handler_of
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, StaleRevision, WrongState

from .support import footprint, last_entry

pytestmark = pytest.mark.django_db


def test_the_handler_records_a_finding_with_its_reasoning():
    case = case_in_state(CaseState.INVESTIGATING)
    handler = handler_of(case)

    finding = services.finding_record(case_id=case.pk, actor=actor(handler), clause_id="zhangjiakou.P1",
                                      status="met", reasoning="会议纪要在卷。")

    assert (finding.status, finding.reasoning, finding.recorded_by) == ("met", "会议纪要在卷。", handler)
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state) == ("record_finding", "investigating", "investigating")
    assert entry.changes == {"clause": "zhangjiakou.P1", "before": None,
                             "after": {"status": "met", "reasoning": "会议纪要在卷。"}}
    assert footprint(case)["revision"] == case.revision + 1


def test_changing_a_finding_keeps_what_it_was():
    finding = FindingFactory(status="met", reasoning="初查符合。")

    services.finding_record(case_id=finding.case_id, actor=actor(handler_of(finding.case)),
                            clause_id=finding.clause_id, status="not_met", reasoning="复查不符合。")

    assert Finding.objects.get(pk=finding.pk).status == "not_met"
    assert last_entry(finding.case).changes["before"] == {"status": "met", "reasoning": "初查符合。"}


def test_recording_the_same_finding_again_changes_nothing():
    finding = FindingFactory()
    before = footprint(finding.case)

    services.finding_record(case_id=finding.case_id, actor=actor(handler_of(finding.case)),
                            clause_id=finding.clause_id, status=finding.status, reasoning=finding.reasoning)

    assert footprint(finding.case) == before


@pytest.mark.parametrize(("clause_id", "status", "reasoning", "field"), [
    ("zhangjiakou.P1", "met", "", "reasoning"),
    ("zhangjiakou.P1", "maybe", "理由。", "status"),
    ("henan.P1", "met", "理由。", "clause_id"),
])
def test_bad_input_names_the_field_and_changes_nothing(clause_id, status, reasoning, field):
    case = case_in_state(CaseState.INVESTIGATING)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.finding_record(case_id=case.pk, actor=actor(handler_of(case)), clause_id=clause_id, status=status,
                                reasoning=reasoning)

    assert refused.value.field == field
    assert footprint(case) == before


def test_unknown_needs_no_reasoning():
    finding = FindingFactory(status="unknown", reasoning="")

    assert (finding.status, finding.reasoning) == ("unknown", "")


def test_the_cadre_cannot_record_findings_on_their_own_case():
    case = case_in_state(CaseState.INVESTIGATING, subject=PersonFactory(with_login=True))
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.finding_record(case_id=case.pk, actor=actor(case.subject.user), clause_id="zhangjiakou.P1",
                                status="met", reasoning="我认为符合。")

    assert footprint(case) == before


def test_no_findings_once_the_proposal_is_made():
    case = case_in_state(CaseState.PROPOSED)
    before = footprint(case)

    with pytest.raises(WrongState):
        services.finding_record(case_id=case.pk, actor=actor(handler_of(case)), clause_id="zhangjiakou.P1",
                                status="not_met", reasoning="改变认定。")

    assert footprint(case) == before


def test_a_stale_form_is_refused():
    case = case_in_state(CaseState.INVESTIGATING)
    before = footprint(case)

    with pytest.raises(StaleRevision):
        services.finding_record(case_id=case.pk, actor=actor(handler_of(case)), clause_id="zhangjiakou.P1",
                                status="met", reasoning="理由。", expected_revision=case.revision - 1)

    assert footprint(case) == before
