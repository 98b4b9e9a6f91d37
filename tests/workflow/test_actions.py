"""The action table (workflow/actions.py) and the named predicates its rules are built from."""

import pytest
from django.utils import timezone

from cases.models import Case, CaseState
from tests.factories import MEETING, actor, case_in_state, deciding_member, handler_of
from workflow import services
from workflow.actions import ACTIONS
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.models import Decision, HistoryAction, HistoryEntry
from workflow.permissions import Access, Predicate, action_check, allowed_actions, has_recused, took_part

from .services.support import footprint

pytestmark = pytest.mark.django_db


def test_every_action_is_declared_once_with_what_each_door_needs():
    states = set(CaseState.values)
    for name, spec in ACTIONS.items():
        assert spec.sources and spec.sources <= states, name
        assert spec.target is None or spec.target in states, name
        assert spec.rule.refusal, name
        assert name in HistoryAction.values, f"{name} writes a history entry of its own kind"
        if spec.offered:  # a button on the page and an action in the API
            assert spec.form is not None and spec.input is not None, name
        else:  # a sub-resource: no form or input here, its own route runs it
            assert spec.form is None and spec.input is None and not spec.drafts, name
    # The state groups are defined once, on CaseState.
    assert ACTIONS["withdraw"].sources == CaseState.pre_decision()
    assert CaseState.decided() == {"decided", "executed", "appealed", "closed"}


def test_there_is_no_manual_close_action():
    # Cases close only when the appeal window expires (cases_close_expired), never by a button.
    assert "close" not in ACTIONS
    assert HistoryAction.CLOSE == "close"


def test_predicates_are_computed_once_per_request_whatever_asks_for_them():
    case = case_in_state(CaseState.PROPOSED)
    calls = []
    counting = Predicate("counting", lambda a: calls.append(1) or True)
    access = Access(deciding_member(case), case)
    composed = counting & ~counting
    assert access.holds(composed) is False
    assert access.holds(counting | counting) is True
    assert len(calls) == 1


def test_separation_of_duties_and_recusal_are_named_rules():
    case = case_in_state(CaseState.PROPOSED)
    member = deciding_member(case)
    assert Access(member, case).holds(took_part) is False
    assert Access(handler_of(case), case).holds(took_part) is True
    services.case_recuse(case_id=case.pk, actor=actor(member), reason="与当事人系近亲属。")
    case.refresh_from_db()
    assert Access(member, case).holds(has_recused) is True
    with pytest.raises(NotAllowed, match="您已申请回避"):
        action_check(member, "decide", case)
    # Recusing twice is not open any more (409), while the other member may still decide.
    with pytest.raises(WrongState, match="您已申请回避"):
        action_check(member, "recuse", case)
    assert "decide" not in allowed_actions(member, case) and "recuse" not in allowed_actions(member, case)


def test_a_wrong_state_is_refused_before_the_role_is_looked_at():
    case = case_in_state(CaseState.STARTED)
    stranger_member = deciding_member(case)
    with pytest.raises(WrongState, match="不能“集体研究决定”"):
        action_check(stranger_member, "decide", case)
    with pytest.raises(NotAllowed, match="谁问责、谁容错"):
        action_check(stranger_member, "investigate", case)


def test_a_departure_reason_without_a_departure_is_refused_and_nothing_is_written():
    # The decision record used to keep an override reason whichever branch was taken, so a document
    # could print a "reason for departing from the evaluation" when the committee did not depart.
    case = case_in_state(CaseState.PROPOSED)
    before = footprint(case)
    with pytest.raises(InvalidInput) as refused:
        services.case_decide(case_id=case.pk, actor=actor(deciding_member(case)), outcome="exempt",
                             resolution="经集体研究，予以免责。", meeting_date=timezone.localdate(),
                             override_reason="无实际不一致。", **MEETING)
    assert refused.value.field == "override_reason" and "一致" in refused.value.message
    assert footprint(case) == before
    assert not Decision.objects.filter(case=case).exists()


def test_a_decision_writes_the_case_once():
    case = case_in_state(CaseState.PROPOSED)
    revision = Case.objects.get(pk=case.pk).revision
    services.case_decide(case_id=case.pk, actor=actor(deciding_member(case)), outcome="exempt",
                         resolution="经集体研究，予以免责。", meeting_date=timezone.localdate(), **MEETING)
    row = Case.objects.get(pk=case.pk)
    assert row.revision == revision + 1 and row.decided_at is not None
    assert HistoryEntry.objects.filter(case=case, action="decide").count() == 1


def test_execution_sets_the_appeal_window_as_the_deadline_in_one_write():
    case = case_in_state(CaseState.DECIDED, outcome="refused")
    revision = Case.objects.get(pk=case.pk).revision
    services.case_execute(case_id=case.pk, actor=actor(handler_of(case)), delivered_on=timezone.localdate())
    row = Case.objects.get(pk=case.pk)
    assert row.revision == revision + 1
    assert row.deadline == row.appeal_deadline and row.appeal_deadline > timezone.localdate()
