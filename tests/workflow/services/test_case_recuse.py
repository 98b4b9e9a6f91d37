"""services.case_recuse: a committee member declares a conflict and is excluded from the decision."""

import pytest
from django.utils import timezone

from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import MEETING, actor, case_in_state, committee_member
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState

from .support import footprint, last_entry

pytestmark = pytest.mark.django_db


def test_a_recused_member_is_recorded_excluded_and_named_in_the_decision():
    case = case_in_state(CaseState.PROPOSED)
    committee = case_authority(case.subject).committee
    conflicted = committee_member(committee, full_name="孙常委")
    other = committee_member(committee)
    before = footprint(case)

    recusal = services.case_recuse(case_id=case.pk, actor=actor(conflicted), reason="与当事人系近亲属。")

    assert (recusal.member, recusal.reason) == (conflicted, "与当事人系近亲属。")
    after = footprint(case)
    assert (after["state"], after["recusals"]) == (CaseState.PROPOSED, 1)
    entry = last_entry(case)
    assert (entry.action, entry.reason) == ("recuse", "与当事人系近亲属。")
    with pytest.raises(NotAllowed, match="回避"):
        services.case_decide(case_id=case.pk, actor=actor(conflicted), outcome="exempt", resolution="免责。",
                             meeting_date=timezone.localdate(), **MEETING)
    decision = services.case_decide(case_id=case.pk, actor=actor(other), outcome="exempt", resolution="免责。",
                                    meeting_date=timezone.localdate(), **MEETING)
    assert decision.recused == ["孙常委"]
    assert before["recusals"] == 0


def test_a_member_recuses_once_and_with_a_reason():
    case = case_in_state(CaseState.PROPOSED)
    member = committee_member(case_authority(case.subject).committee)
    with pytest.raises(InvalidInput):
        services.case_recuse(case_id=case.pk, actor=actor(member), reason="")
    services.case_recuse(case_id=case.pk, actor=actor(member), reason="近亲属。")
    before = footprint(case)

    with pytest.raises(WrongState):
        services.case_recuse(case_id=case.pk, actor=actor(member), reason="再次回避。")

    assert footprint(case) == before
