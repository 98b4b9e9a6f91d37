"""services.case_appeal: the party appeals a refusal within the window."""

import pytest

from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import (
    PersonFactory,
    UnitPartyFactory,
    actor,
    case_in_state,
    committee_member,
    handler_of,
    unit_officer,
)
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.models import Appeal

from .support import footprint, last_entry, notices

pytestmark = pytest.mark.django_db


def test_the_cadre_appeals_a_refusal_and_the_committee_is_told():
    case = case_in_state(CaseState.EXECUTED, outcome="refused", subject=PersonFactory(with_login=True))
    member = committee_member(case_authority(case.subject).committee)

    appeal = services.case_appeal(case_id=case.pk, actor=actor(case.subject.user), reasons="系应急处置，请求复核。")

    assert (appeal.reasons, appeal.filed_by, appeal.result) == ("系应急处置，请求复核。", case.subject.user, "")
    assert footprint(case)["state"] == CaseState.APPEALED
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state, entry.reason) == (
        "appeal", "executed", "appealed", "系应急处置，请求复核。")
    assert notices(case)[member.pk] == [f"收到申诉：{case.subject.name}《{case.title}》"]


def test_an_officer_of_a_unit_held_accountable_appeals_for_it():
    party = UnitPartyFactory()
    officer = unit_officer(party.unit)
    case = case_in_state(CaseState.EXECUTED, outcome="refused", subject=party)

    services.case_appeal(case_id=case.pk, actor=actor(officer), reasons="单位请求复核。")

    assert Appeal.objects.get(case=case).filed_by == officer


def test_a_tolerated_case_cannot_be_appealed():
    case = case_in_state(CaseState.EXECUTED, subject=PersonFactory(with_login=True))
    before = footprint(case)

    with pytest.raises(WrongState, match="不予容错"):
        services.case_appeal(case_id=case.pk, actor=actor(case.subject.user), reasons="请求复核。")

    assert footprint(case) == before


def test_only_the_party_appeals_and_with_reasons():
    case = case_in_state(CaseState.EXECUTED, outcome="refused", subject=PersonFactory(with_login=True))
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.case_appeal(case_id=case.pk, actor=actor(handler_of(case)), reasons="代为申诉。")
    with pytest.raises(InvalidInput) as refused:
        services.case_appeal(case_id=case.pk, actor=actor(case.subject.user), reasons="  ")

    assert refused.value.field == "reasons"
    assert footprint(case) == before
