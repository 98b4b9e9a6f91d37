"""services.case_execute: the decision is carried out and the written feedback delivered."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import OrgKind
from accounts.selectors import case_authority
from cases.models import CaseState
from rules.dates import cn_date
from tests.factories import (
    PersonFactory,
    UnitPartyFactory,
    actor,
    case_in_state,
    committee_member,
    handler_of,
    organ,
    unit_officer,
)
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState

from .support import footprint, last_entry, notices

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_delivery_opens_the_appeal_window_and_tells_the_cadre():
    case = case_in_state(CaseState.DECIDED, subject=PersonFactory(with_login=True))

    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=TODAY())

    case.refresh_from_db()
    assert (case.state, case.delivered_on) == (CaseState.EXECUTED, TODAY())
    assert case.appeal_deadline == TODAY() + dt.timedelta(days=30)
    assert case.deadline is None  # a tolerated case has nothing left to wait for
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state) == ("execute", "decided", "executed")
    assert entry.changes == {"delivered_on": TODAY().isoformat(), "appeal_deadline": case.appeal_deadline.isoformat()}
    assert notices(case)[case.subject.user_id] == ["容错认定结论已送达：免责"]


def test_a_refusal_waits_for_the_appeal_window_and_says_so():
    case = case_in_state(CaseState.DECIDED, outcome="refused", subject=PersonFactory(with_login=True))

    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=TODAY())

    case.refresh_from_db()
    assert case.deadline == case.appeal_deadline
    assert notices(case)[case.subject.user_id] == [
        f"容错认定结论已送达：不予容错；如不服，可在 {cn_date(case.appeal_deadline)} 前提出申诉"]


def test_the_officers_of_a_unit_held_accountable_are_told():
    party = UnitPartyFactory()
    officers = [unit_officer(party.unit), unit_officer(party.unit)]
    case = case_in_state(CaseState.DECIDED, subject=party)

    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=TODAY())

    assert {u: texts for u, texts in notices(case).items() if u != handler_of(case).pk} == {
        o.pk: ["容错认定结论已送达：免责"] for o in officers}


def test_the_current_officers_of_the_applying_unit_are_told():
    cadre = PersonFactory()
    filer = unit_officer(cadre.unit)
    case = case_in_state(CaseState.DECIDED, subject=cadre, created_by=filer,
                         accountability_org=organ(cadre.unit.parent, OrgKind.DISCIPLINE))
    successor = unit_officer(cadre.unit)

    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=TODAY())

    told = notices(case)
    assert told[filer.pk][-1] == told[successor.pk][-1] == "容错认定结论已送达：免责"


@pytest.mark.parametrize("delivered_on", [TODAY() + dt.timedelta(days=1), TODAY() - dt.timedelta(days=1), "昨天"])
def test_a_delivery_date_outside_decision_to_today_changes_nothing(delivered_on):
    case = case_in_state(CaseState.DECIDED)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=delivered_on)

    assert refused.value.field == "delivered_on"
    assert footprint(case) == before


def test_only_the_handling_department_executes_and_only_a_decided_case():
    case = case_in_state(CaseState.DECIDED)
    before = footprint(case)
    with pytest.raises(NotAllowed):
        services.case_execute(case_id=case.pk, actor=actor(committee_member(case_authority(case.subject).committee)),
                              delivered_on=TODAY())
    assert footprint(case) == before

    proposed = case_in_state(CaseState.PROPOSED)
    before = footprint(proposed)
    with pytest.raises(WrongState):
        services.case_execute(case_id=proposed.pk, actor=actor(handler_of(proposed)), delivered_on=TODAY())
    assert footprint(proposed) == before
