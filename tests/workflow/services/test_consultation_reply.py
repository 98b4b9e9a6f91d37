"""services.consultation_reply: a consulted department's opinion on the proposal."""

import pytest

from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import OrgDeptFactory, actor, case_in_state, orgdept_officer
from workflow import services
from workflow.errors import InvalidInput, NotAllowed
from workflow.models import Consultation

from .support import footprint, last_entry

pytestmark = pytest.mark.django_db


def test_the_orgdept_replies_and_the_case_stays_proposed():
    case = case_in_state(CaseState.PROPOSED, answered=False)
    orgdept = case_authority(case.subject).orgdept
    officer = orgdept_officer(orgdept)
    before = footprint(case)

    consultation = services.consultation_reply(case_id=case.pk, actor=actor(officer), opinion="agree", comment="同意。")

    consultation.refresh_from_db()
    assert (consultation.opinion, consultation.comment, consultation.replied_by) == ("agree", "同意。", officer)
    assert consultation.replied_at is not None
    after = footprint(case)
    assert (after["state"], after["revision"]) == (CaseState.PROPOSED, before["revision"] + 1)
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state) == ("consult_reply", "proposed", "proposed")
    assert entry.changes == {"organisation": orgdept.name, "opinion": "agree", "comment": "同意。"}


def test_disagreeing_needs_a_reason():
    case = case_in_state(CaseState.PROPOSED, answered=False)
    officer = orgdept_officer(case_authority(case.subject).orgdept)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.consultation_reply(case_id=case.pk, actor=actor(officer), opinion="disagree")

    assert refused.value.field == "comment"
    assert footprint(case) == before
    assert Consultation.objects.get(proposal__case=case).replied_at is None


def test_a_department_replies_once():
    case = case_in_state(CaseState.PROPOSED, answered=False)
    officer = orgdept_officer(case_authority(case.subject).orgdept)
    services.consultation_reply(case_id=case.pk, actor=actor(officer), opinion="agree")
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.consultation_reply(case_id=case.pk, actor=actor(officer), opinion="disagree", comment="改变主意。")

    assert footprint(case) == before
    assert Consultation.objects.get(proposal__case=case).opinion == "agree"


def test_a_department_not_consulted_cannot_reply():
    case = case_in_state(CaseState.PROPOSED, answered=False)
    stranger = orgdept_officer(OrgDeptFactory(parent=case_authority(case.subject).committee))
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.consultation_reply(case_id=case.pk, actor=actor(stranger), opinion="agree")

    assert footprint(case) == before
