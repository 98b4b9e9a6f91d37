"""services.case_withdraw: the department or the applicant withdraws an open case."""

import pytest

from accounts.models import OrgKind
from cases.models import CaseState
from tests.factories import PersonFactory, actor, case_in_state, handler_of, organ, unit_officer
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState

from .support import footprint, last_entry

pytestmark = pytest.mark.django_db


def test_the_department_withdraws_a_duplicate():
    case = case_in_state(CaseState.INVESTIGATING)

    services.case_withdraw(case_id=case.pk, actor=actor(handler_of(case)), reason="与另一案件重复。")

    after = footprint(case)
    assert (after["state"], after["deadline"]) == (CaseState.WITHDRAWN, None)
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state, entry.reason) == (
        "withdraw", "investigating", "withdrawn", "与另一案件重复。")


def test_a_cadre_withdraws_their_own_application():
    cadre = PersonFactory(with_login=True)
    case = case_in_state(CaseState.STARTED, subject=cadre, created_by=cadre.user,
                         accountability_org=organ(cadre.unit.parent, OrgKind.DISCIPLINE))

    services.case_withdraw(case_id=case.pk, actor=actor(cadre.user), reason="不再申请。")

    assert footprint(case)["state"] == CaseState.WITHDRAWN


def test_a_unit_withdraws_the_application_it_filed():
    cadre = PersonFactory()
    officer = unit_officer(cadre.unit)
    case = case_in_state(CaseState.PROPOSED, subject=cadre, created_by=officer,
                         accountability_org=organ(cadre.unit.parent, OrgKind.DISCIPLINE))

    services.case_withdraw(case_id=case.pk, actor=actor(officer), reason="单位撤回申请。")

    assert footprint(case)["state"] == CaseState.WITHDRAWN


def test_the_cadre_cannot_withdraw_a_case_the_department_started():
    case = case_in_state(CaseState.STARTED, subject=PersonFactory(with_login=True))
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.case_withdraw(case_id=case.pk, actor=actor(case.subject.user), reason="撤回。")

    assert footprint(case) == before


def test_no_withdrawal_after_the_decision_nor_without_a_reason():
    decided = case_in_state(CaseState.DECIDED)
    before = footprint(decided)
    with pytest.raises(WrongState):
        services.case_withdraw(case_id=decided.pk, actor=actor(handler_of(decided)), reason="撤回。")
    assert footprint(decided) == before

    started = case_in_state(CaseState.STARTED)
    before = footprint(started)
    with pytest.raises(InvalidInput):
        services.case_withdraw(case_id=started.pk, actor=actor(handler_of(started)), reason="")
    assert footprint(started) == before
