"""manage.py check_records: clean on the demo data, and finds each kind of broken record."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, CaseState
from tests.conftest import DEMO_PASSWORD
from tests.factories import case_in_state
from workflow.models import Consultation, Decision, DecisionKind

pytestmark = pytest.mark.django_db


def _run(capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        call_command("check_records")
    return exited.value.code, capsys.readouterr().out


def test_the_demo_data_is_clean(capsys):
    call_command("seed_demo", "--password", DEMO_PASSWORD)
    assert Case.objects.count() >= 10
    call_command("check_records")
    assert "全部案件记录均符合程序顺序" in capsys.readouterr().out


def test_a_decision_meeting_before_the_conduct_is_listed(capsys):
    case = case_in_state(CaseState.DECIDED)
    Decision.objects.filter(case=case).update(meeting_date=case.conduct_date - dt.timedelta(days=90))
    code, out = _run(capsys)
    assert code == 1
    assert f"{case.reference}（#{case.pk}）：集体研究决定的会议日期" in out and "早于行为发生日期" in out


def test_a_delivery_in_the_future_is_listed(capsys):
    case = case_in_state(CaseState.EXECUTED)
    Case.objects.filter(pk=case.pk).update(delivered_on=timezone.localdate() + dt.timedelta(days=3))
    code, out = _run(capsys)
    assert code == 1 and f"{case.reference}（#{case.pk}）：书面反馈送达日期" in out and "晚于今天" in out


def test_a_decision_taken_while_a_consultation_was_unanswered_is_listed(capsys):
    case = case_in_state(CaseState.DECIDED)
    Consultation.objects.filter(proposal__case=case).update(replied_at=None, opinion="")
    code, out = _run(capsys)
    assert code == 1 and "作出决定时" in out and "会商意见尚未回复" in out


def test_an_upheld_review_with_a_new_outcome_is_listed(capsys):
    case = case_in_state(CaseState.CLOSED)
    Decision.objects.filter(case=case, kind=DecisionKind.APPEAL_REVIEW).update(outcome="lighter")
    code, out = _run(capsys)
    assert code == 1 and "维持原决定，却记载了新的结论“从轻”" in out


def test_a_consultation_left_waiting_on_a_withdrawn_case_is_listed(capsys):
    case = case_in_state(CaseState.PROPOSED, answered=False)
    Case.objects.filter(pk=case.pk).update(state=CaseState.WITHDRAWN)
    code, out = _run(capsys)
    assert code == 1 and "案件已撤回，" in out and "会商请求仍在待回复" in out
