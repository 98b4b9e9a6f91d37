"""services.case_propose: the preliminary opinion, consultation requests and the committee's inbox."""

import pytest

from accounts.models import OrgKind
from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import (
    FunctionalFactory,
    UnitFactory,
    actor,
    case_in_state,
    committee_member,
    findings_for,
    handler_of,
    inspector,
    orgdept_officer,
)
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.models import Consultation, Proposal

from .support import footprint, last_entry, notices

pytestmark = pytest.mark.django_db


def _investigated(**kwargs):
    """An investigating case with tolerable findings: propose is the next step."""
    case = case_in_state(CaseState.INVESTIGATING, **kwargs)
    handler = actor(handler_of(case))
    for clause_id, status in findings_for(case).items():
        services.finding_record(case_id=case.pk, actor=handler, clause_id=clause_id, status=status, reasoning="核实。")
    return case


def test_the_proposal_goes_to_consultation_and_to_the_committee():
    case = _investigated()
    authority = case_authority(case.subject)
    audit = FunctionalFactory(parent=authority.committee)
    orgdept_user, audit_user = orgdept_officer(authority.orgdept), inspector(audit)
    member = committee_member(authority.committee)

    services.case_propose(case_id=case.pk, actor=actor(handler_of(case)), recommended_outcome="exempt",
                          opinion="建议免责。", consult=[audit])

    proposal = Proposal.objects.get(case=case)
    assert (proposal.round, proposal.recommended_outcome, proposal.opinion) == (1, "exempt", "建议免责。")
    assert proposal.evaluation["verdict"] == "tolerable"
    assert set(Consultation.objects.filter(proposal=proposal).values_list("organisation", flat=True)) == {
        authority.orgdept.pk, audit.pk}
    assert footprint(case)["state"] == CaseState.PROPOSED
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state) == ("propose", "investigating", "proposed")
    assert entry.changes == {"recommended_outcome": "exempt", "round": 1, "verdict": "tolerable",
                             "consult": [authority.orgdept.name, audit.name]}
    title = f"{case.subject.name}《{case.title}》"
    assert notices(case) == {orgdept_user.pk: [f"会商请求：{title}"], audit_user.pk: [f"会商请求：{title}"],
                             member.pk: [f"待研究决定：{title}"]}


def test_a_department_of_another_committee_cannot_be_consulted():
    case = _investigated()
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_propose(case_id=case.pk, actor=actor(handler_of(case)), recommended_outcome="exempt",
                              opinion="建议免责。", consult=[FunctionalFactory(parent=UnitFactory().parent)])

    assert refused.value.field == "consult"
    assert footprint(case) == before
    assert not Consultation.objects.exists()


def test_a_proposal_after_a_send_back_is_the_next_round_and_clears_the_reason():
    case = case_in_state(CaseState.PROPOSED)
    services.case_send_back(case_id=case.pk, actor=actor(committee_member(case_authority(case.subject).committee)),
                            reason="补充鉴定材料。")

    services.case_propose(case_id=case.pk, actor=actor(handler_of(case)), recommended_outcome="lighter",
                          opinion="补充调查后建议从轻。")

    assert list(Proposal.objects.filter(case=case).values_list("round", "recommended_outcome")) == [
        (1, "exempt"), (2, "lighter")]
    assert footprint(case)["sent_back_reason"] == ""


def test_an_empty_opinion_changes_nothing():
    case = _investigated()
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_propose(case_id=case.pk, actor=actor(handler_of(case)), recommended_outcome="exempt", opinion="")

    assert refused.value.field == "opinion"
    assert footprint(case) == before


def test_the_committee_cannot_propose_and_a_started_case_cannot_be_proposed():
    case = _investigated()
    before = footprint(case)
    with pytest.raises(NotAllowed):
        services.case_propose(case_id=case.pk, actor=actor(committee_member(case_authority(case.subject).committee)),
                              recommended_outcome="exempt", opinion="建议免责。")
    assert footprint(case) == before

    started = case_in_state(CaseState.STARTED)
    with pytest.raises(WrongState):
        services.case_propose(case_id=started.pk, actor=actor(handler_of(started)), recommended_outcome="exempt",
                              opinion="建议免责。")
    assert footprint(started)["state"] == CaseState.STARTED


def test_the_orgdept_is_consulted_even_when_no_one_asked():
    case = _investigated()

    services.case_propose(case_id=case.pk, actor=actor(handler_of(case)), recommended_outcome="exempt",
                          opinion="建议免责。")

    consulted = Consultation.objects.get(proposal__case=case).organisation
    assert consulted.kind == OrgKind.ORGDEPT and consulted == case_authority(case.subject).orgdept
