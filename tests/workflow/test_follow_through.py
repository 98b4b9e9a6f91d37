"""Return visits (回访), clarification (澄清正名) and failures to tolerate (应容未容): services and API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import Role
from accounts.selectors import case_authority, members_of
from cases.models import Case, CaseState, Outcome
from tests.factories import (
    MEETING,
    CommitteeFactory,
    PersonFactory,
    UnitFactory,
    actor,
    case_in_state,
    committee_member,
    deciding_member,
    handler_of,
    inspector,
)
from workflow import services
from workflow.errors import InvalidInput, NotAllowed, WrongState
from workflow.models import (
    Clarification,
    FailureStatus,
    FailureToTolerate,
    FailureTrigger,
    HistoryAction,
    Notification,
)
from workflow.selectors import dated_tasks_open

pytestmark = pytest.mark.django_db


def _months_later(day: dt.date, months: int) -> dt.date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


# --- return visits ---------------------------------------------------------------------------------

def test_delivery_schedules_visits_at_the_configured_months_assigned_to_the_handler():
    case = case_in_state(CaseState.EXECUTED)
    visits = list(case.return_visits.order_by("due_on"))
    assert [v.months_after for v in visits] == [3, 6]
    assert [v.due_on for v in visits] == [_months_later(case.delivered_on, 3), _months_later(case.delivered_on, 6)]
    assert all(v.assignee_id == case.handler_id for v in visits)
    notices = Notification.objects.filter(case=case, user=case.handler, task=HistoryAction.COMPLETE_VISIT)
    assert notices.count() == 2 and all(v.notice_id for v in visits)
    assert case.history.filter(action=HistoryAction.SCHEDULE_VISIT).count() == 1


def test_refused_cases_are_visited_too_and_a_jurisdiction_may_configure_its_own_months(settings):
    settings.RETURN_VISIT_MONTHS_BY_JURISDICTION = {"zhangjiakou": [1, 12]}
    case = case_in_state(CaseState.EXECUTED, outcome=Outcome.REFUSED)
    assert list(case.return_visits.values_list("months_after", flat=True)) == [1, 12]


def test_an_organisations_visit_months_set_in_the_admin_apply_below_it_and_bad_values_are_refused(settings):
    from django.core.exceptions import ValidationError

    from workflow.models import DeadlinePolicy

    settings.RETURN_VISIT_MONTHS_BY_JURISDICTION = {"zhangjiakou": [1, 12]}
    case = case_in_state(CaseState.DECIDED)
    top = case.accountability_org.ancestors()[-1] if case.accountability_org.ancestors() else case.accountability_org
    DeadlinePolicy.objects.create(organisation=top, return_visit_months="2，9")
    services.case_execute(case_id=case.pk, actor=actor(case.handler), delivered_on=timezone.localdate())
    assert sorted(case.return_visits.values_list("months_after", flat=True)) == [2, 9]

    bad = DeadlinePolicy(organisation=top, return_visit_months="三个月")
    with pytest.raises(ValidationError) as raised:
        bad.clean()
    assert "回访时间应为逗号分隔的月数" in str(raised.value.message_dict["return_visit_months"])


def test_visits_fall_on_the_same_day_months_later_or_the_month_end():
    with freeze_time("2025-11-30 10:00:00+08:00"):
        case = case_in_state(CaseState.EXECUTED)
    assert case.delivered_on == dt.date(2025, 11, 30)
    assert sorted(case.return_visits.values_list("due_on", flat=True)) == [dt.date(2026, 2, 28), dt.date(2026, 5, 30)]


def test_corrected_delivery_moves_open_visits_without_duplicating_them():
    with freeze_time("2025-09-20 10:00:00+08:00"):
        case = case_in_state(CaseState.EXECUTED)
    with freeze_time("2025-09-25 10:00:00+08:00"):
        services.delivery_correct(case_id=case.pk, actor=actor(handler_of(case)), delivered_on="2025-09-22",
                                  reason="送达回证日期登记有误。")
    assert sorted(case.return_visits.values_list("due_on", flat=True)) == [dt.date(2025, 12, 22),
                                                                            dt.date(2026, 3, 22)]


def test_completing_a_visit_records_it_in_history_and_closes_only_its_own_notice():
    case = case_in_state(CaseState.EXECUTED)
    first, second = case.return_visits.order_by("due_on")
    today = timezone.localdate()
    services.visit_complete(case_id=case.pk, actor=actor(case.handler), visit_id=first.pk, visited_on=today,
                            form="site", notes="到单位走访，与干部谈心。", cadre_state="工作积极，状态良好。")
    first.refresh_from_db()
    assert first.done and first.form == "site" and first.cadre_state == "工作积极，状态良好。"
    entry = case.history.filter(action=HistoryAction.COMPLETE_VISIT).get()
    assert entry.changes["visit"] == first.pk
    assert Notification.objects.get(pk=first.notice_id).done_at is not None
    assert Notification.objects.get(pk=second.notice_id).done_at is None
    assert [t["id"] for t in dated_tasks_open()] == [second.pk]


def test_a_due_visit_is_reminded_then_overdue_then_escalated_each_once(settings):
    from workflow.models import DeadlineStep
    from workflow.services.reminders import deadlines_check, visit_stage

    settings.STAGE_DEADLINE_DAYS_KIND = "calendar"
    settings.DEADLINE_REMINDER_LEAD_DAYS = 3
    settings.DEADLINE_ESCALATION_DAYS = 5
    with freeze_time("2025-06-20 10:00:00+08:00"):
        case = case_in_state(CaseState.EXECUTED)
    first = case.return_visits.order_by("due_on").first()
    assert first.due_on == dt.date(2025, 9, 20)

    def check(day: str) -> dict[str, int]:
        with freeze_time(f"{day} 09:00:00+08:00"):
            return deadlines_check()

    assert check("2025-09-16")["visit_reminder"] == 0
    assert check("2025-09-17")["visit_reminder"] == 1
    assert check("2025-09-17")["visit_reminder"] == 0  # beat fires twice: one reminder
    reminders = Notification.objects.filter(user=case.handler, text__startswith="催办")
    assert reminders.count() == 1 and case.reference in reminders.get().text and "2025年9月20日" in reminders.get().text
    assert check("2025-09-20")["visit_overdue"] == 0
    assert check("2025-09-21")["visit_overdue"] == 1
    assert check("2025-09-25")["visit_escalation"] == 0
    assert check("2025-09-26")["visit_escalation"] == 1
    assert list(DeadlineStep.objects.filter(stage=visit_stage(first.pk)).values_list("step", flat=True)) == [
        "reminder", "overdue", "escalation"]
    actions = list(case.history.filter(changes__visit=first.pk).values_list("action", flat=True))
    assert actions == ["deadline_reminder", "deadline_overdue", "deadline_escalation"]

    # A visit done is reminded no more.
    second = case.return_visits.order_by("due_on").last()
    with freeze_time("2025-12-10 10:00:00+08:00"):
        services.visit_complete(case_id=case.pk, actor=actor(case.handler), visit_id=second.pk,
                                visited_on=dt.date(2025, 12, 10), form="talk", notes="谈话。", cadre_state="良好。")
    taken = check("2025-12-30")
    assert taken["visit_reminder"] == taken["visit_overdue"] == taken["visit_escalation"] == 0
    assert not DeadlineStep.objects.filter(stage=visit_stage(second.pk)).exists()


def test_a_visit_cannot_be_completed_twice_nor_by_someone_outside_the_department():
    case = case_in_state(CaseState.EXECUTED)
    visit = case.return_visits.first()
    kwargs = {"case_id": case.pk, "visit_id": visit.pk, "visited_on": timezone.localdate(), "form": "talk",
              "notes": "谈话。", "cadre_state": "良好。"}
    with pytest.raises(NotAllowed):
        services.visit_complete(actor=actor(committee_member(case_authority(case.subject).committee)), **kwargs)
    services.visit_complete(actor=actor(case.handler), **kwargs)
    with pytest.raises(WrongState):
        services.visit_complete(actor=actor(case.handler), **kwargs)


def test_visit_dates_are_checked():
    case = case_in_state(CaseState.EXECUTED)
    visit = case.return_visits.first()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as err:
        services.visit_complete(case_id=case.pk, actor=actor(case.handler), visit_id=visit.pk, visited_on=tomorrow,
                                form="talk", notes="谈话。", cadre_state="良好。")
    assert err.value.field == "visited_on"
    with pytest.raises(InvalidInput) as err:
        services.visit_add(case_id=case.pk, actor=actor(case.handler), due_on="2020-01-01", form="talk")
    assert err.value.field == "due_on"
    visit.refresh_from_db()
    assert not visit.done


def test_reassigning_the_case_passes_open_visits_to_the_new_handler():
    case = case_in_state(CaseState.EXECUTED)
    new = inspector(case.accountability_org)
    services.case_reassign(case_id=case.pk, actor=actor(case.handler), handler=new, reason="工作调整。")
    assert set(case.return_visits.values_list("assignee", flat=True)) == {new.pk}


# --- failures to tolerate (应容未容) ------------------------------------------------------------------

def test_an_overturned_refusal_records_one_failure_for_the_upper_commission():
    case = case_in_state(CaseState.APPEALED, verdict="refused")
    decision = services.appeal_review(
        case_id=case.pk, actor=actor(deciding_member(case)), result="overturned", outcome="exempt",
        resolution="经复核，撤销原决定，予以免责。", meeting_date=timezone.localdate(),
        override_reason="复核查明新的事实，符合容错情形。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    assert failure.decision == decision and failure.trigger == FailureTrigger.APPEAL_OVERTURNED
    authority = case_authority(case.subject)
    assert failure.reviewer == (authority.upper_discipline or authority.discipline)
    assert case.history.filter(action=HistoryAction.FAILURE_RECORD).count() == 1
    # Recording again for the same decision (a retried task, a second call) changes nothing.
    assert services.followup.failure_record(case, decision, actor(case.handler)) == failure
    assert FailureToTolerate.objects.filter(case=case).count() == 1
    assert case.history.filter(action=HistoryAction.FAILURE_RECORD).count() == 1


def test_a_refusal_against_a_tolerable_verdict_records_a_failure_and_an_agreeing_one_does_not():
    departed = case_in_state(CaseState.PROPOSED, verdict="tolerable", outcome=Outcome.REFUSED)
    services.case_decide(case_id=departed.pk, actor=actor(deciding_member(departed)), outcome="refused",
                         resolution="经集体研究，不予容错。", override_reason="造成重大损失，影响恶劣。",
                         meeting_date=timezone.localdate(), **MEETING)
    failure = FailureToTolerate.objects.get(case=departed)
    assert failure.trigger == FailureTrigger.DEPARTURE and "造成重大损失" in failure.summary
    agreeing = case_in_state(CaseState.DECIDED, outcome=Outcome.REFUSED)
    exempt = case_in_state(CaseState.DECIDED)
    assert not FailureToTolerate.objects.filter(case__in=[agreeing, exempt]).exists()


def lower_level_cadre():
    """A cadre managed by a county committee below a city committee (whose commission reviews)."""
    upper = CommitteeFactory()
    lower = CommitteeFactory(parent=upper, level="county")
    return PersonFactory(with_login=True, unit=UnitFactory(parent=lower))


def test_the_upper_commission_dismisses_or_opens_a_case_and_others_cannot():
    case = case_in_state(CaseState.APPEALED, verdict="refused", subject=lower_level_cadre())
    services.appeal_review(case_id=case.pk, actor=actor(deciding_member(case)), result="overturned",
                           outcome="exempt", resolution="撤销原决定。", meeting_date=timezone.localdate(),
                           override_reason="复核查明新的事实。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    with pytest.raises(InvalidInput):  # the handling department does not see the matter about itself
        services.failure_dismiss(actor=actor(case.handler), failure_id=failure.pk, reason="理由充分。")
    reviewer_user = members_of(failure.reviewer, Role.INSPECTOR).first() or inspector(failure.reviewer)
    with pytest.raises(InvalidInput) as err:
        services.failure_dismiss(actor=actor(reviewer_user), failure_id=failure.pk, reason="  ")
    assert err.value.field == "reason"
    services.failure_dismiss(actor=actor(reviewer_user), failure_id=failure.pk, reason="原决定理由经审查成立。")
    failure.refresh_from_db()
    assert failure.status == FailureStatus.DISMISSED and failure.resolved_by == reviewer_user
    assert case.history.filter(action=HistoryAction.FAILURE_DISMISS).exists()
    with pytest.raises(WrongState):
        services.failure_open_case(actor=actor(reviewer_user), failure_id=failure.pk, case_id=case.pk)


# --- clarification (澄清正名) -------------------------------------------------------------------------

def test_a_clarification_from_a_case_is_recorded_with_history_and_the_cadre_is_told():
    case = case_in_state(CaseState.CLOSED, subject=PersonFactory(with_login=True))
    clarification = services.clarification_record(
        actor=actor(case.handler), person=case.subject, case=case, decided_on=timezone.localdate(),
        scope="unit", basis="经调查核实，举报反映的问题失实。",
        accuser_referred_to="区纪委监委第二审查调查室", accuser_referred_on=timezone.localdate(),
        accuser_outcome="已立案审查。")
    assert clarification.organisation_id in {case.accountability_org_id, case_authority(case.subject).discipline.pk}
    assert case.history.filter(action=HistoryAction.CLARIFY).exists()
    assert Notification.objects.filter(user=case.subject.user, text__contains="澄清正名").exists()


def test_the_cadre_finds_their_clarification_on_their_own_page_and_another_cadre_does_not(client):
    case = case_in_state(CaseState.CLOSED, subject=PersonFactory(with_login=True))
    other = PersonFactory(with_login=True)
    clarification = services.clarification_record(
        actor=actor(case.handler), person=case.subject, case=case, decided_on=dt.date(2026, 3, 5),
        scope="circulated", basis="经调查核实，举报反映的问题失实。")
    client.force_login(case.subject.user)
    page = client.get("/mine/").content.decode()
    assert f'data-clarification="{clarification.pk}"' in page and "2026年3月5日" in page
    assert f"/clarifications/{clarification.pk}/document/" in page and "一定范围内通报" in page
    client.force_login(other.user)
    assert "data-clarification" not in client.get("/mine/").content.decode()


def test_a_clarification_on_its_own_and_who_may_record_it():
    person = PersonFactory()
    authority = case_authority(person)
    officer = inspector(authority.discipline)
    clarification = services.clarification_record(
        actor=actor(officer), person=person, decided_on=timezone.localdate(), scope="circulated",
        basis="经核查，反映问题不属实。")
    assert clarification.case is None and clarification.organisation == authority.discipline
    stranger = committee_member(authority.committee)
    with pytest.raises(NotAllowed):
        services.clarification_record(actor=actor(stranger), person=person, decided_on=timezone.localdate(),
                                      scope="self", basis="不属实。")
    with pytest.raises(InvalidInput) as err:
        services.clarification_record(actor=actor(officer), person=person, decided_on=timezone.localdate(),
                                      scope="everyone", basis="不属实。")
    assert err.value.field == "scope"
    assert Clarification.objects.count() == 1


def test_the_upper_commission_links_the_case_it_opened():
    case = case_in_state(CaseState.PROPOSED, outcome=Outcome.REFUSED, verdict="tolerable",
                         subject=lower_level_cadre())
    services.case_decide(case_id=case.pk, actor=actor(deciding_member(case)), outcome="refused",
                         resolution="经集体研究，不予容错。", override_reason="造成重大损失，影响恶劣。",
                         meeting_date=timezone.localdate(), **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    assert failure.reviewer == case_authority(case.subject).upper_discipline
    reviewer_user = inspector(failure.reviewer)
    # The people responsible for the refusal are managed at the upper level.
    opened = case_in_state(CaseState.STARTED, subject=PersonFactory(unit=UnitFactory(parent=failure.reviewer.parent)),
                           accountability_org=failure.reviewer, created_by=reviewer_user)
    with pytest.raises(InvalidInput) as err:
        services.failure_open_case(actor=actor(reviewer_user), failure_id=failure.pk, case_id=999999)
    assert err.value.field == "case"
    services.failure_open_case(actor=actor(reviewer_user), failure_id=failure.pk, case_id=opened.pk,
                               note="对原决定的责任人启动问责调查。")
    failure.refresh_from_db()
    assert failure.status == FailureStatus.CASE_OPENED and failure.opened_case == opened
    assert case.history.filter(action=HistoryAction.FAILURE_OPEN_CASE).get().changes["opened_case"] == opened.reference


# --- API -------------------------------------------------------------------------------------------

def client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_visits_and_hides_the_record_from_the_cadre():
    case = case_in_state(CaseState.EXECUTED, subject=PersonFactory(with_login=True))
    visit = case.return_visits.order_by("due_on").first()
    handler = client_for(case.handler)
    done = handler.post(f"/api/cases/{case.pk}/visits/{visit.pk}/complete/", {
        "visited_on": timezone.localdate().isoformat(), "form": "talk", "notes": "谈心谈话，了解思想状况。",
        "cadre_state": "认真整改，工作积极。"}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["done"] is True and done.json()["notes"] == "谈心谈话，了解思想状况。"
    own = client_for(case.subject.user).get(f"/api/cases/{case.pk}/visits/").json()
    assert [(v["due_on"], v["form"]) for v in own] == [(str(v.due_on), v.form) for v in case.return_visits.all()]
    assert all(v["notes"] is None and v["cadre_state"] is None for v in own)
    assert handler.get(f"/api/cases/{case.pk}/visits/").json()[0]["cadre_state"] == "认真整改，工作积极。"


def test_api_visits_are_404_to_outsiders_and_bad_input_is_a_chinese_400():
    case = case_in_state(CaseState.EXECUTED)
    visit = case.return_visits.first()
    outsider = client_for(inspector(case_authority(PersonFactory()).discipline))
    assert outsider.get(f"/api/cases/{case.pk}/visits/").status_code == 404
    r = outsider.post(f"/api/cases/{case.pk}/visits/{visit.pk}/complete/", {
        "visited_on": timezone.localdate().isoformat(), "form": "talk", "notes": "x", "cadre_state": "y"},
        format="json")
    assert r.status_code == 404
    handler = client_for(case.handler)
    r = handler.post(f"/api/cases/{case.pk}/visits/{visit.pk}/complete/", {
        "visited_on": timezone.localdate().isoformat(), "form": "talk", "notes": "", "cadre_state": "良好。"},
        format="json")
    assert r.status_code == 400 and r.json()["field"] == "notes" and "回访记录" in r.json()["detail"]
    r = handler.post(f"/api/cases/{case.pk}/visits/", {"due_on": "2020-01-01"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "due_on" and "不能早于今天" in r.json()["detail"]
    visit.refresh_from_db()
    assert not visit.done and case.return_visits.count() == 2
    later = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    r = handler.post(f"/api/cases/{case.pk}/visits/", {"due_on": later, "form": "site"}, format="json")
    assert r.status_code == 201 and r.json()["months_after"] is None and case.return_visits.count() == 3


def test_api_clarification_create_list_and_outsiders():
    person = PersonFactory()
    officer = client_for(inspector(case_authority(person).discipline))
    r = officer.post("/api/clarifications/", {
        "person": person.pk, "decided_on": timezone.localdate().isoformat(), "scope": "unit",
        "basis": "经核查，举报反映的问题失实。"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["scope_label"] == "所在单位" and body["organisation"] == case_authority(person).discipline.name
    assert [c["id"] for c in officer.get("/api/clarifications/").json()["results"]] == [body["id"]]
    outsider = client_for(inspector(case_authority(PersonFactory()).discipline))
    assert outsider.get(f"/api/clarifications/{body['id']}/").status_code == 404
    assert outsider.get("/api/clarifications/").json()["results"] == []
    r = outsider.post("/api/clarifications/", {
        "person": person.pk, "decided_on": timezone.localdate().isoformat(), "scope": "unit", "basis": "失实。"},
        format="json")
    assert r.status_code == 400 and r.json()["field"] == "person"
    r = officer.post("/api/clarifications/", {"person": person.pk, "decided_on": timezone.localdate().isoformat(),
                                             "scope": "unit", "basis": ""}, format="json")
    assert r.status_code == 400 and "澄清依据" in r.json()["detail"]
    r = officer.post(f"/api/clarifications/{body['id']}/referral/", {
        "accuser_referred_to": "公安机关", "accuser_referred_on": timezone.localdate().isoformat(),
        "accuser_outcome": "已移送司法机关。"}, format="json")
    assert r.status_code == 200 and r.json()["accuser_referred_to"] == "公安机关"
    assert Clarification.objects.get().accuser_outcome == "已移送司法机关。"


def test_api_failures_for_the_upper_commission_only():
    case = case_in_state(CaseState.APPEALED, verdict="refused", subject=lower_level_cadre())
    services.appeal_review(case_id=case.pk, actor=actor(deciding_member(case)), result="overturned",
                           outcome="exempt", resolution="撤销原决定。", meeting_date=timezone.localdate(),
                           override_reason="复核查明新的事实。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    upper = client_for(inspector(failure.reviewer))
    listed = upper.get("/api/failures-to-tolerate/?status=open").json()["results"]
    assert [f["id"] for f in listed] == [failure.pk] and listed[0]["trigger"] == "appeal_overturned"
    assert upper.get("/api/failures-to-tolerate/?status=bogus").status_code == 400
    handler = client_for(case.handler)
    assert handler.get("/api/failures-to-tolerate/").json()["results"] == []
    assert handler.post(f"/api/failures-to-tolerate/{failure.pk}/dismiss/", {"reason": "理由成立。"},
                        format="json").status_code == 404
    r = upper.post(f"/api/failures-to-tolerate/{failure.pk}/dismiss/", {"reason": ""}, format="json")
    assert r.status_code == 400 and "排除理由" in r.json()["detail"]
    r = upper.post(f"/api/failures-to-tolerate/{failure.pk}/dismiss/", {"reason": "经审查，原决定系依据当时查明的事实作出。"},
                   format="json")
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    failure.refresh_from_db()
    assert failure.status == FailureStatus.DISMISSED


# --- pages and citations ---------------------------------------------------------------------------

def test_every_quoted_clause_is_verbatim_in_its_source_document():
    from pathlib import Path

    from django.conf import settings

    from workflow import followup_policy

    sources = Path(settings.BASE_DIR) / "rules" / "rulesets" / "sources"
    for citation in followup_policy.ALL:
        assert citation.quote in (sources / citation.source).read_text(encoding="utf-8"), citation


def test_visit_pages_for_the_handler_and_the_cadre(client):
    case = case_in_state(CaseState.EXECUTED, subject=PersonFactory(with_login=True))
    first = case.return_visits.order_by("due_on").first()
    client.force_login(case.handler)
    page = client.get(f"/cases/{case.pk}/?tab=visits").content.decode()
    assert "回访" in page and "记录回访情况" in page and "一问了之" in page and "配置" in page
    bad = client.post(f"/cases/{case.pk}/visits/{first.pk}/complete/", {
        f"visit{first.pk}-visited_on": timezone.localdate().isoformat(), f"visit{first.pk}-form": "talk",
        f"visit{first.pk}-notes": "", f"visit{first.pk}-cadre_state": "良好。"})
    assert bad.status_code == 400 and "请填写回访记录。" in bad.content.decode()
    ok = client.post(f"/cases/{case.pk}/visits/{first.pk}/complete/", {
        f"visit{first.pk}-visited_on": timezone.localdate().isoformat(), f"visit{first.pk}-form": "site",
        f"visit{first.pk}-notes": "实地走访单位，谈心谈话。", f"visit{first.pk}-cadre_state": "干劲足。"})
    assert ok.status_code == 302
    listing = client.get("/visits/").content.decode()
    assert "已完成（1）" in listing and "待回访（1）" in listing
    client.force_login(case.subject.user)
    own = client.get(f"/cases/{case.pk}/?tab=visits").content.decode()
    assert "计划中" in own and "实地走访单位" not in own and "干劲足" not in own
    assert client.get("/visits/").status_code == 404


def test_failure_page_dismiss_with_a_chinese_message(client):
    case = case_in_state(CaseState.APPEALED, verdict="refused", subject=lower_level_cadre())
    services.appeal_review(case_id=case.pk, actor=actor(deciding_member(case)), result="overturned",
                           outcome="exempt", resolution="撤销原决定。", meeting_date=timezone.localdate(),
                           override_reason="复核查明新的事实。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    client.force_login(inspector(failure.reviewer))
    assert case.reference in client.get("/failures-to-tolerate/").content.decode()
    bad = client.post(f"/failures-to-tolerate/{failure.pk}/dismiss/", {f"dismiss{failure.pk}-reason": ""})
    assert bad.status_code == 400 and "请填写排除理由。" in bad.content.decode()
    assert client.post(f"/failures-to-tolerate/{failure.pk}/bogus/", {}).status_code == 404
    ok = client.post(f"/failures-to-tolerate/{failure.pk}/dismiss/", {f"dismiss{failure.pk}-reason": "理由成立。"})
    assert ok.status_code == 302
    failure.refresh_from_db()
    assert failure.status == FailureStatus.DISMISSED
    client.force_login(case.handler)
    assert client.post(f"/failures-to-tolerate/{failure.pk}/dismiss/", {}).status_code == 404


def test_clarification_page_from_a_case(client):
    case = case_in_state(CaseState.CLOSED)
    client.force_login(case.handler)
    form = client.get(f"/clarifications/new/?case={case.pk}").content.decode()
    assert "誰辦理、誰澄清" in form
    bad = client.post(f"/clarifications/new/?case={case.pk}", {"decided_on": timezone.localdate().isoformat(),
                                                                "scope": "unit", "basis": "",
                                                                "organisation": case.accountability_org_id})
    assert bad.status_code == 400 and "请填写澄清依据" in bad.content.decode()
    ok = client.post(f"/clarifications/new/?case={case.pk}", {
        "decided_on": timezone.localdate().isoformat(), "scope": "circulated", "basis": "举报失实。",
        "organisation": case.accountability_org_id, "accuser_referred_to": "公安机关"})
    assert ok.status_code == 302
    assert Clarification.objects.get().case == case
    assert "一定范围内通报" in client.get("/clarifications/").content.decode()


@pytest.mark.parametrize("person", ["abc", "99999999999999999999", "-1"])
def test_a_clarification_for_a_person_who_is_not_an_id_asks_for_a_cadre_and_writes_nothing(client, person):
    case = case_in_state(CaseState.CLOSED)
    client.force_login(case.handler)
    response = client.post("/clarifications/new/", {
        "person": person, "decided_on": timezone.localdate().isoformat(), "scope": "unit", "basis": "举报失实。",
        "organisation": case.accountability_org_id})
    assert response.status_code == 400 and "被澄清干部" in response.content.decode()
    assert not Clarification.objects.exists()


def test_the_opened_case_may_be_named_by_its_reference_and_a_wrong_one_is_refused():
    case = case_in_state(CaseState.APPEALED, verdict="refused", subject=lower_level_cadre())
    services.appeal_review(case_id=case.pk, actor=actor(deciding_member(case)), result="overturned",
                           outcome="exempt", resolution="撤销原决定。", meeting_date=timezone.localdate(),
                           override_reason="复核查明新的事实。", **MEETING)
    failure = FailureToTolerate.objects.get(case=case)
    reviewer_user = inspector(failure.reviewer)
    opened = case_in_state(CaseState.STARTED, subject=PersonFactory(unit=UnitFactory(parent=failure.reviewer.parent)),
                           accountability_org=failure.reviewer, created_by=reviewer_user)
    wrong_year = opened.reference.replace(opened.reference[2:6], "1999")
    with pytest.raises(InvalidInput):
        services.failure_open_case(actor=actor(reviewer_user), failure_id=failure.pk, case_id=wrong_year)
    services.failure_open_case(actor=actor(reviewer_user), failure_id=failure.pk, case_id=opened.reference)
    failure.refresh_from_db()
    assert failure.opened_case == opened


def test_a_completed_visit_appears_in_the_filing_register(client):
    from accounts.selectors import case_authority as authority_of
    from tests.factories import orgdept_officer

    case = case_in_state(CaseState.EXECUTED)
    first = case.return_visits.order_by("due_on").first()
    services.visit_complete(case_id=case.pk, actor=actor(case.handler), visit_id=first.pk,
                            visited_on=timezone.localdate(), form="talk", notes="谈话。", cadre_state="积极整改，表现良好。")
    officer = orgdept_officer(authority_of(case.subject).orgdept)
    rows = client_for(officer).get("/api/filings/").json()["results"]
    visits = next(r for r in rows if r["case"] == case.pk)["return_visits"]
    assert visits[0]["visited_on"] == timezone.localdate().isoformat()
    assert visits[0]["cadre_state"] == "积极整改，表现良好。" and visits[1]["visited_on"] is None
    client.force_login(officer)
    assert "积极整改，表现良好。" in client.get("/filings/").content.decode()


def test_may_clarify_answers_what_the_full_rule_answers_for_every_user(world, api):
    # The case page asks the short form; it must agree with the organisations the clarification form offers.
    from workflow.services.followup import clarifying_orgs, may_clarify

    from .helpers import create_case

    case = Case.objects.get(pk=create_case(api, world)["id"])
    users = list(world.users.values())
    answers = {u.username: may_clarify(u, case.subject, case) for u in users}
    assert answers == {u.username: bool(clarifying_orgs(u, case.subject, case)) for u in users}
    assert answers["inspector"] and not answers["cadre"] and not answers["committee"]
    assert may_clarify(world.users["inspector"], case.subject, None) == bool(
        clarifying_orgs(world.users["inspector"], case.subject, None))


def test_the_clarification_list_pages_by_position_newest_decision_first(client):
    person = PersonFactory()
    officer = inspector(case_authority(person).discipline)
    today = timezone.localdate()
    for i in range(30):  # four a day: a page boundary falls inside a tie
        services.clarification_record(actor=actor(officer), person=person, decided_on=today - dt.timedelta(days=i // 4),
                                      scope="self", basis=f"经核查，第{i}件反映不属实。")
    expected = list(Clarification.objects.order_by("-decided_on", "-id").values_list("pk", flat=True))
    client.force_login(officer)
    first = client.get("/clarifications/")
    assert [c.pk for c in first.context["page"].rows] == expected[:25]
    assert "共 30 件" in first.content.decode() and 'rel="next"' in first.content.decode()
    second = client.get(f"/clarifications/?after={first.context['page'].next_position}")
    assert [c.pk for c in second.context["page"].rows] == expected[25:]
    back = client.get(f"/clarifications/?before={second.context['page'].previous_position}")
    assert [c.pk for c in back.context["page"].rows] == expected[:25]
    broken = client.get("/clarifications/?after=%%%")
    assert broken.status_code == 200 and "翻页位置无效" in broken.content.decode()
