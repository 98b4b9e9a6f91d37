"""Zhangjiagang's 一般 / 原则上: a refusal resting only on default rules is shown as such, and the
committee may depart from it only with a written reason that the decision record keeps."""

import pytest
from django.utils import timezone

from cases.models import CaseState
from tests.factories import (
    MEETING,
    CommitteeFactory,
    FindingFactory,
    PersonFactory,
    UnitFactory,
    actor,
    answer_consultations,
    case_in_state,
    deciding_member,
    handler_of,
)
from workflow import services
from workflow.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused_on_a_default_rule():
    # 「容错免责一般应同时具备6项“前置条件”」: P5 found not met, everything else favourable.
    unit = UnitFactory(parent=CommitteeFactory(jurisdiction="zhangjiagang"))
    case = case_in_state(CaseState.INVESTIGATING, subject=PersonFactory(unit=unit))
    handler = handler_of(case)
    for n in range(1, 7):
        FindingFactory(case=case, clause_id=f"zhangjiagang.P{n}", status="not_met" if n == 5 else "met",
                       recorded_by=handler)
    FindingFactory(case=case, clause_id="zhangjiagang.S1", status="met", recorded_by=handler)
    services.case_propose(case_id=case.pk, actor=actor(handler), recommended_outcome="refused", opinion="建议。")
    answer_consultations(case)
    return case


def test_the_decision_page_says_the_refusal_rests_on_a_default_rule(client, refused_on_a_default_rule):
    case = refused_on_a_default_rule
    client.force_login(deciding_member(case))
    html = client.get(f"/cases/{case.pk}/review/").content.decode()
    assert "data-default-rule" in html and "本评估仅依据原则性规定" in html


def test_departing_from_a_default_rule_needs_a_reason_which_the_decision_keeps(refused_on_a_default_rule):
    case = refused_on_a_default_rule
    member = deciding_member(case)
    body = {"outcome": "exempt", "resolution": "经集体研究，予以免责。", "meeting_date": timezone.localdate(), **MEETING}
    with pytest.raises(InvalidInput) as refused:
        services.case_decide(case_id=case.pk, actor=actor(member), **body)
    assert refused.value.field == "override_reason"
    decision = services.case_decide(case_id=case.pk, actor=actor(member), override_reason="系执行上级紧急部署所致。",
                                    **body)
    assert decision.evaluation["rests_on_default"] is True
    assert decision.override_reason == "系执行上级紧急部署所致。"


def test_the_decision_page_names_the_department_still_awaited(client):
    unit = UnitFactory(parent=CommitteeFactory(jurisdiction="zhangjiagang"))
    case = case_in_state(CaseState.PROPOSED, answered=False, subject=PersonFactory(unit=unit))
    client.force_login(deciding_member(case))
    html = client.get(f"/cases/{case.pk}/review/").content.decode()
    assert "data-outstanding" in html and "尚有会商意见未回复：" in html
    assert case.proposals.get().consultations.get().organisation.name in html
