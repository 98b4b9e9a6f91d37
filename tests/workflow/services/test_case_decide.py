"""services.case_decide: the committee's collective decision, with the evaluation it was made on."""

import pytest
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.selectors import case_authority
from cases.models import CaseState
from tests.factories import MEETING, actor, case_in_state, committee_member, deciding_member, handler_of
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, StaleRevision, WrongState
from workflow.models import Decision, PinnedRuleSet

from .support import footprint, last_entry, names, notices, outbox

pytestmark = pytest.mark.django_db


def decide(case, user, **overrides):
    body = {"outcome": "exempt", "resolution": "经集体研究，予以免责。", "meeting_date": timezone.localdate(), **MEETING,
            **overrides}
    return services.case_decide(case_id=case.pk, actor=actor(user), **body)


def test_a_member_decides_and_the_decision_keeps_its_evaluation(django_capture_on_commit_callbacks):
    case = case_in_state(CaseState.PROPOSED)
    member = deciding_member(case)

    with django_capture_on_commit_callbacks() as callbacks:
        decision = decide(case, member)

    after = footprint(case)
    assert (after["state"], after["outcome"]) == (CaseState.DECIDED, "exempt")
    assert (decision.kind, decision.sequence, decision.outcome, decision.recorded_by) == ("decision", 1, "exempt", member)
    assert (decision.members_present, decision.members_total, decision.override_reason) == (9, 11, "")
    assert decision.evaluation["verdict"] == "tolerable"
    assert decision.inputs["findings"]["zhangjiakou.S1"]["status"] == "met"
    assert PinnedRuleSet.objects.filter(content_hash=decision.ruleset_hash).exists()
    case.refresh_from_db()
    assert case.decided_at == decision.decided_at
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state, entry.actor) == ("decide", "proposed", "decided", member)
    assert entry.changes == {"outcome": "exempt", "meeting_date": timezone.localdate().isoformat(),
                             "attendance": "9/11", "verdict": "tolerable", "override": False}
    assert outbox(case) == [("case_decided", {"decision": decision.pk})]
    assert names(callbacks) == ["outbox_kick"]
    assert notices(case)[handler_of(case).pk][-1] == "党委已作出决定（免责），请执行并书面反馈"


def test_a_decision_against_the_evaluation_needs_a_reason():
    case = case_in_state(CaseState.PROPOSED)
    member = deciding_member(case)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        decide(case, member, outcome="refused")
    assert refused.value.field == "override_reason"
    assert footprint(case) == before

    decision = decide(case, member, outcome="refused", override_reason="损失较大，不宜容错。")
    assert decision.override_reason == "损失较大，不宜容错。"
    entry = case.history.get(action="decide")
    assert entry.changes["override"] is True and entry.reason == "损失较大，不宜容错。"
    # Refusing what the rules found tolerable is also recorded as a possible 应容未容 matter, after it.
    assert last_entry(case).action == "failure_record"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"members_present": 5}, "members_present"),
    ({"members_present": 12}, "members_present"),
    ({"members_total": 0, "members_present": 0}, "members_total"),
    ({"meeting_date": "2999-01-01"}, "meeting_date"),
    ({"meeting_kind": "chat"}, "meeting_kind"),
    ({"outcome": "pardon"}, "outcome"),
    ({"resolution": " "}, "resolution"),
])
def test_bad_input_names_the_field_and_changes_nothing(overrides, field):
    case = case_in_state(CaseState.PROPOSED)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        decide(case, deciding_member(case), **overrides)

    assert refused.value.field == field
    assert footprint(case) == before
    assert not PinnedRuleSet.objects.exists()


def test_the_handler_who_also_sits_on_the_committee_may_not_vote():
    case = case_in_state(CaseState.PROPOSED)
    handler = handler_of(case)
    Membership.objects.create(user=handler, organisation=case_authority(case.subject).committee, role=Role.COMMITTEE)
    before = footprint(case)

    with pytest.raises(NotAllowed, match="职责分离"):
        decide(case, type(handler).objects.get(pk=handler.pk))

    assert footprint(case) == before


def test_a_member_of_another_committee_may_not_decide():
    case = case_in_state(CaseState.PROPOSED)
    outsider = committee_member(case_in_state(CaseState.STARTED).subject.unit.parent)
    before = footprint(case)

    with pytest.raises(NotAllowed):
        decide(case, outsider)

    assert footprint(case) == before


def test_a_case_is_decided_once_and_a_stale_form_is_refused():
    case = case_in_state(CaseState.PROPOSED)
    member = deciding_member(case)
    revision = footprint(case)["revision"]

    with pytest.raises(StaleRevision):
        decide(case, member, expected_revision=revision - 1)
    decide(case, member, expected_revision=revision)
    after = footprint(case)
    with pytest.raises(WrongState):
        decide(case, committee_member(case_authority(case.subject).committee))

    assert footprint(case) == after
    assert Decision.objects.filter(case=case).count() == 1
