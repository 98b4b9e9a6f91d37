"""services.case_send_back: the committee returns a proposal to investigation with its reason."""

import pytest

from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import actor, case_in_state, committee_member, handler_of
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState

from .support import footprint, last_entry, notices

pytestmark = pytest.mark.django_db


def test_a_member_sends_the_case_back_and_the_handler_is_told():
    case = case_in_state(CaseState.PROPOSED)
    member = committee_member(case_authority(case.subject).committee)

    services.case_send_back(case_id=case.pk, actor=actor(member), reason="请补充第三方鉴定材料。")

    after = footprint(case)
    assert (after["state"], after["sent_back_reason"]) == (CaseState.INVESTIGATING, "请补充第三方鉴定材料。")
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state, entry.reason) == (
        "send_back", "proposed", "investigating", "请补充第三方鉴定材料。")
    assert notices(case)[handler_of(case).pk] == ["案件被退回补充调查：请补充第三方鉴定材料。"]


def test_a_send_back_needs_a_reason():
    case = case_in_state(CaseState.PROPOSED)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_send_back(case_id=case.pk, actor=actor(committee_member(case_authority(case.subject).committee)),
                                reason="")

    assert refused.value.field == "reason"
    assert footprint(case) == before


def test_the_handler_cannot_send_back_and_a_decided_case_cannot_be_sent_back():
    case = case_in_state(CaseState.PROPOSED)
    before = footprint(case)
    with pytest.raises(NotAllowed):
        services.case_send_back(case_id=case.pk, actor=actor(handler_of(case)), reason="自己退回。")
    assert footprint(case) == before

    decided = case_in_state(CaseState.DECIDED)
    before = footprint(decided)
    with pytest.raises(WrongState):
        services.case_send_back(case_id=decided.pk,
                                actor=actor(committee_member(case_authority(decided.subject).committee)), reason="晚了。")
    assert footprint(decided) == before
