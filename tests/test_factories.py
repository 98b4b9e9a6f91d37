"""The factories build reachable data: every state through the services, a tree the selectors understand."""

import pytest

from accounts.models import OrgKind, Role
from accounts.selectors import case_authority
from cases.models import CaseState
from workflow.history import history_verify
from workflow.models import HistoryEntry

from .factories import (
    CommitteeFactory,
    EvidenceFactory,
    PersonFactory,
    StatementFactory,
    UnitFactory,
    UnitPartyFactory,
    case_in_state,
)

pytestmark = pytest.mark.django_db


def test_a_unit_comes_with_a_committee_and_its_organs():
    unit = UnitFactory()

    authority = case_authority(PersonFactory(unit=unit))

    assert authority.committee == unit.parent
    assert authority.discipline.kind == OrgKind.DISCIPLINE and authority.discipline.parent == unit.parent
    assert authority.orgdept.kind == OrgKind.ORGDEPT
    assert authority.upper_discipline is None


def test_a_cadre_with_a_login_holds_the_cadre_role_in_their_unit():
    person = PersonFactory(with_login=True)

    assert person.user.full_name == person.name
    assert list(person.user.memberships.values_list("organisation", "role")) == [(person.unit_id, Role.CADRE)]


def test_a_unit_party_stands_for_its_unit():
    party = UnitPartyFactory()

    assert party.is_unit and party.name == party.unit.name and party.user is None


def test_a_committee_below_another_files_upward():
    upper = CommitteeFactory()
    lower = CommitteeFactory(parent=upper, level="county")

    authority = case_authority(PersonFactory(unit=UnitFactory(parent=lower)))

    assert authority.committee == lower
    assert authority.upper_discipline.parent == upper


@pytest.mark.parametrize("state", CaseState.values)
def test_case_in_state_reaches_every_state_through_the_services(state):
    case = case_in_state(state)

    assert case.state == state
    assert HistoryEntry.objects.filter(case=case).last().to_state == state
    assert history_verify().ok


def test_a_case_closes_when_its_appeal_window_expires():
    case = case_in_state(CaseState.CLOSED, closed_via="expiry")

    assert (case.state, case.outcome) == (CaseState.CLOSED, "exempt")
    assert HistoryEntry.objects.filter(case=case).last().via == "task"


def test_only_a_refusal_can_be_driven_to_appeal():
    with pytest.raises(ValueError, match="only a refusal"):
        case_in_state(CaseState.APPEALED, outcome="exempt")


def test_evidence_and_statements_go_through_their_services(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = EvidenceFactory()
    statement = StatementFactory()

    assert evidence.original_name == "现场照片.png" and len(evidence.sha256) == 64
    assert (tmp_path / evidence.file.name).exists()
    assert HistoryEntry.objects.filter(case=evidence.case).last().action == "add_evidence"
    assert statement.author == statement.case.subject.user
    assert HistoryEntry.objects.filter(case=statement.case).last().action == "add_statement"
