"""services.appeal_review: the committee re-reviews an appeal: uphold (closed) or overturn (decided anew)."""

import pytest
from django.utils import timezone

from cases.models import CaseState
from tests.factories import MEETING, actor, case_in_state, deciding_member, handler_of
from workflow import services
from workflow.errors import InvalidInput, NotAllowed
from workflow.models import Appeal, Decision

from .support import footprint, last_entry, names, notices, outbox

pytestmark = pytest.mark.django_db


def review(case, user, **overrides):
    body = {"result": "upheld", "resolution": "经复核，维持原决定。", "meeting_date": timezone.localdate(), **MEETING,
            **overrides}
    return services.appeal_review(case_id=case.pk, actor=actor(user), **body)


def test_upholding_closes_the_case_and_tells_the_party(django_capture_on_commit_callbacks):
    case = case_in_state(CaseState.APPEALED)

    with django_capture_on_commit_callbacks() as callbacks:
        decision = review(case, deciding_member(case))

    after = footprint(case)
    assert (after["state"], after["outcome"], after["decisions"]) == (CaseState.CLOSED, "refused", 2)
    assert (decision.kind, decision.sequence, decision.appeal_result) == ("appeal_review", 2, "upheld")
    appeal = Appeal.objects.get(case=case)
    assert (appeal.result, appeal.review_decision) == ("upheld", decision)
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state) == ("review_appeal", "appealed", "closed")
    assert entry.changes == {"result": "upheld", "outcome": "refused"}
    assert outbox(case)[-1] == ("appeal_reviewed", {"decision": decision.pk})
    assert names(callbacks) == ["outbox_kick"]
    assert notices(case)[case.subject.user_id][-1] == "申诉复核结果：维持原决定"


def test_overturning_decides_anew_and_keeps_the_first_decided_at():
    case = case_in_state(CaseState.APPEALED)
    first = Decision.objects.get(case=case)

    decision = review(case, deciding_member(case), result="overturned", outcome="lighter",
                      override_reason="复核认定属应急处置。")

    case.refresh_from_db()
    assert (case.state, case.outcome, decision.outcome) == (CaseState.DECIDED, "lighter", "lighter")
    assert case.decided_at == first.decided_at
    assert Appeal.objects.get(case=case).result == "overturned"


def test_overturning_to_a_refusal_changes_nothing():
    case = case_in_state(CaseState.APPEALED)
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        review(case, deciding_member(case), result="overturned", outcome="refused")

    assert refused.value.field == "outcome"
    assert footprint(case) == before
    assert Appeal.objects.get(case=case).result == ""


def test_the_handler_may_not_review():
    case = case_in_state(CaseState.APPEALED)
    before = footprint(case)

    with pytest.raises(NotAllowed):
        review(case, handler_of(case))

    assert footprint(case) == before
