"""Deadlines that act: reminders, overdue notices and escalation once per case and stage, pauses, limits
per jurisdiction, the administrator's holiday entries, and notices by e-mail.

Dates are fixed across the 2025 National Day week: 1-8 October off, Sunday 28 September and
Saturday 11 October worked (调休). Time is frozen; nothing depends on today's date.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from freezegun import freeze_time

from accounts.models import Membership
from cases.models import Case
from tests.factories import (
    CommitteeFactory,
    PersonFactory,
    UnitFactory,
    actor,
    case_in_state,
    handler_of,
    inspector,
    organ,
)
from workflow.deadlines import add_working_days, calendar_warning, is_workday, limits_for
from workflow.models import (
    CalendarDayKind,
    CasePause,
    DeadlinePolicy,
    DeadlineStep,
    HistoryEntry,
    HolidayCalendarDay,
    Notification,
)
from workflow.services import consultation_withdraw, evidence_add
from workflow.services.notices import notices_deliver, notices_digest_send
from workflow.services.reminders import deadlines_check, material_request

D = dt.date
pytestmark = pytest.mark.django_db


def _at(day: dt.date) -> str:
    return f"{day.isoformat()} 09:00:00+08:00"


@pytest.fixture
def tree():
    """An upper committee and one below it, each with its discipline commission; heads marked."""
    upper = CommitteeFactory()
    lower = CommitteeFactory(parent=upper)
    unit = UnitFactory(parent=lower)
    upper_head = inspector(organ(upper, "discipline"), full_name="上级主任")
    Membership.objects.filter(user=upper_head).update(is_head=True)
    lower_dc = organ(lower, "discipline")
    handler = inspector(lower_dc, full_name="承办人")
    head = inspector(lower_dc, full_name="本级主任")
    Membership.objects.filter(user=head).update(is_head=True)
    return {"upper": upper, "lower": lower, "unit": unit, "handler": handler, "head": head,
            "upper_head": upper_head, "lower_dc": lower_dc}


def _started_case(tree, day: dt.date, **fields) -> Case:
    with freeze_time(_at(day)):
        return case_in_state("started", subject=PersonFactory(unit=tree["unit"]), created_by=tree["handler"],
                             **fields)


def _texts(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("text", flat=True))


def _check(day: dt.date) -> dict[str, int]:
    """The steps taken for stage deadlines (return visits' steps are counted apart, as visit_*)."""
    with freeze_time(_at(day)):
        taken = deadlines_check()
    return {k: v for k, v in taken.items() if not k.startswith("visit_")}


@pytest.fixture
def working_days(settings):
    settings.STAGE_DEADLINE_DAYS_KIND = "working"
    settings.STAGE_DEADLINE_DAYS = {"started": 5}
    settings.DEADLINE_REMINDER_LEAD_DAYS = 3
    settings.DEADLINE_ESCALATION_DAYS = 5


def test_the_bundled_calendar_knows_the_2025_national_day_make_up_days():
    assert is_workday(D(2025, 9, 28)) and is_workday(D(2025, 10, 11))  # Sunday and Saturday worked
    assert not any(is_workday(D(2025, 10, d)) for d in range(1, 9))
    assert add_working_days(D(2025, 9, 26), 5) == D(2025, 10, 10)


def test_reminder_overdue_and_escalation_across_national_day_each_once(tree, working_days):
    # Started on Friday 26 September: five working days are 28, 29, 30 September, 9 and 10 October.
    case = _started_case(tree, D(2025, 9, 26))
    assert case.deadline == D(2025, 10, 10)

    # Three working days before the deadline is 29 September (30 Sep, 9 and 10 Oct remain).
    assert _check(D(2025, 9, 28))["reminder"] == 0
    assert _check(D(2025, 9, 29))["reminder"] == 1
    assert _check(D(2025, 9, 29))["reminder"] == 0  # beat fires twice: still one reminder
    assert _check(D(2025, 10, 5))["reminder"] == 0
    reminders = [t for t in _texts(tree["handler"]) if t.startswith("催办")]
    assert len(reminders) == 1 and "2025年10月10日" in reminders[0]
    assert _texts(tree["head"]) == []

    # Overdue the day after the deadline: Saturday 11 October is a working day, and the day it shows.
    assert _check(D(2025, 10, 10))["overdue"] == 0
    assert _check(D(2025, 10, 11))["overdue"] == 1
    assert _check(D(2025, 10, 11)) == {"reminder": 0, "overdue": 0, "escalation": 0}
    assert [t[:3] for t in _texts(tree["head"])] == ["超期："]
    assert any(t.startswith("超期：") for t in _texts(tree["handler"]))

    # Escalation five working days after the deadline (11, 13, 14, 15, 16 October): from the 17th.
    assert _check(D(2025, 10, 16))["escalation"] == 0
    assert _check(D(2025, 10, 17))["escalation"] == 1
    assert _check(D(2025, 10, 20))["escalation"] == 0
    assert [t[:5] for t in _texts(tree["upper_head"])] == ["超期督办："]

    steps = list(DeadlineStep.objects.filter(case=case).values_list("stage", "round", "step"))
    assert steps == [("started", 1, "reminder"), ("started", 1, "overdue"), ("started", 1, "escalation")]
    actions = list(HistoryEntry.objects.filter(case=case).values_list("action", flat=True))
    assert actions[-3:] == ["deadline_reminder", "deadline_overdue", "deadline_escalation"]
    assert HistoryEntry.objects.filter(case=case, action="deadline_overdue").get().actor_name == "系统"


def test_the_management_command_runs_the_same_check(tree, working_days, capsys):
    case = _started_case(tree, D(2025, 9, 26))

    call_command("check_deadlines", "--date", "2025-10-11")
    call_command("check_deadlines", "--date", "2025-10-11")

    assert set(DeadlineStep.objects.filter(case=case).values_list("step", flat=True)) == {"reminder", "overdue"}
    assert DeadlineStep.objects.filter(case=case).count() == 2
    assert "催办 0 件，超期提醒 0 件" in capsys.readouterr().out


def test_the_command_refuses_a_bad_date_in_one_line(capsys):
    with pytest.raises(SystemExit):
        call_command("check_deadlines", "--date", "2025-13-01")
    assert "--date 的值 '2025-13-01' 无效" in capsys.readouterr().err


def test_a_case_that_moved_on_gets_no_step_of_the_old_stage(tree, working_days):
    case = _started_case(tree, D(2025, 9, 26))
    with freeze_time(_at(D(2025, 9, 26))):
        from workflow.services import case_investigate

        case_investigate(case_id=case.pk, actor=actor(tree["handler"]))
    case.refresh_from_db()
    assert case.state == "investigating"

    assert _check(D(2025, 9, 29)) == {"reminder": 0, "overdue": 0, "escalation": 0}


def test_requesting_material_pauses_the_clock_and_the_submission_extends_the_deadline(tree, working_days, settings):
    settings.STAGE_DEADLINE_DAYS = {"started": 5, "investigating": 5}
    subject = PersonFactory(unit=tree["unit"], with_login=True)
    with freeze_time(_at(D(2025, 9, 26))):
        case = case_in_state("investigating", subject=subject, created_by=tree["handler"])
    assert case.deadline == D(2025, 10, 10)

    with freeze_time(_at(D(2025, 9, 29))):
        material_request(case_id=case.pk, actor=actor(handler_of(case)), reason="请补充现场处置记录。")
    pause = CasePause.objects.get(case=case)
    assert (pause.reason, pause.ended_at) == ("material", None)
    assert any("需要您补充材料" in t for t in _texts(subject.user))
    # While paused no reminder or overdue notice goes out, however late it gets.
    assert _check(D(2025, 10, 13)) == {"reminder": 0, "overdue": 0, "escalation": 0}

    # The cadre submits on Monday 13 October: paused 29, 30 Sep, 9, 10, 11 Oct = 5 working days.
    from tests.factories import png_upload

    with freeze_time(_at(D(2025, 10, 13))):
        evidence_add(case_id=case.pk, actor=actor(subject.user), upload=png_upload(), description="现场处置记录")
    pause.refresh_from_db()
    case.refresh_from_db()
    assert pause.ended_at is not None and pause.extended_days == 5
    assert case.deadline == D(2025, 10, 16)  # 10 October + 11 (Saturday, worked), 13, 14, 15, 16
    resume = HistoryEntry.objects.filter(case=case, action="clock_resume").get()
    assert "顺延 5 个工作日至2025年10月16日" in resume.reason
    assert HistoryEntry.objects.filter(case=case, action="clock_pause").count() == 1
    # The clock runs again: three working days before 16 October is the 13th.
    assert _check(D(2025, 10, 13))["reminder"] == 1


def test_an_open_consultation_pauses_the_clock_until_it_is_withdrawn(tree, working_days, settings):
    settings.STAGE_DEADLINE_DAYS = {"started": 5, "investigating": 5, "proposed": 5}
    with freeze_time(_at(D(2025, 9, 26))):
        case = case_in_state("proposed", answered=False, subject=PersonFactory(unit=tree["unit"]),
                             created_by=tree["handler"])
    pause = CasePause.objects.get(case=case)
    assert pause.reason == "consultation" and pause.stage == "proposed"
    assert _check(D(2025, 10, 20)) == {"reminder": 0, "overdue": 0, "escalation": 0}

    from workflow.selectors import pending_consultations

    with freeze_time(_at(D(2025, 10, 9))):
        for consultation in pending_consultations(case):
            consultation_withdraw(case_id=case.pk, actor=actor(handler_of(case)),
                                  organisation=consultation.organisation_id, reason="久未回复，撤回。")
    pause.refresh_from_db()
    case.refresh_from_db()
    # Paused 26, 28, 29, 30 September (four working days) until 9 October.
    assert pause.extended_days == 4
    assert case.deadline == add_working_days(D(2025, 10, 10), 4) == D(2025, 10, 15)


def test_limits_are_inherited_down_the_tree_and_fall_back_to_settings(tree, settings):
    settings.STAGE_DEADLINE_DAYS = {}
    settings.STAGE_DEADLINE_DAYS_KIND = "calendar"
    DeadlinePolicy.objects.create(organisation=tree["upper"], investigating_days=20, days_kind="working",
                                  reminder_lead_days=2)
    DeadlinePolicy.objects.create(organisation=tree["lower"], investigating_days=12)

    limits = limits_for(tree["lower_dc"])

    assert limits.stage_days["investigating"] == 12  # own committee's policy
    assert limits.working is True and limits.reminder_lead_days == 2  # from the upper committee
    assert limits.stage_days["started"] == 7 and limits.escalation_days == 5  # settings' defaults
    assert limits.inquiry_reply_months == 1  # 呼和浩特 第8条：于一个月内
    with freeze_time(_at(D(2025, 9, 26))):
        case = _started_case(tree, D(2025, 9, 26))
    assert case.deadline == add_working_days(D(2025, 9, 26), 7)


def test_administrators_holiday_entries_override_and_extend_the_bundled_calendar(settings):
    settings.STAGE_DEADLINE_DAYS_KIND = "working"
    assert is_workday(D(2027, 1, 1))  # 2027 is not bundled: a Friday counts as a working day
    HolidayCalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    HolidayCalendarDay.objects.create(date=D(2025, 10, 11), kind=CalendarDayKind.HOLIDAY, name="（测试）改为放假")

    assert not is_workday(D(2027, 1, 1))
    assert not is_workday(D(2025, 10, 11))
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_from_december_the_missing_next_year_is_warned_about():
    assert calendar_warning(D(2026, 11, 30)) == ""
    warning = calendar_warning(D(2026, 12, 1))
    assert "尚未录入 2027 年的节假日安排" in warning
    assert calendar_warning(D(2025, 12, 1)) == ""  # 2026 is bundled

    HolidayCalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    assert calendar_warning(D(2026, 12, 1)) == ""


def test_the_warning_shows_on_the_admin_index_and_an_officers_home_page(client, world):
    with freeze_time(_at(D(2026, 12, 2))):
        client.force_login(world.users["admin"])
        admin_page = client.get("/admin/").content.decode()
        client.force_login(world.users["inspector"])
        home = client.get("/").content.decode()
    assert "尚未录入 2027 年的节假日安排" in admin_page
    assert "尚未录入 2027 年的节假日安排" in home
    with freeze_time(_at(D(2026, 11, 2))):
        assert "尚未录入" not in client.get("/").content.decode()


# --- notices by e-mail -------------------------------------------------------------------------

@pytest.fixture
def smtp(settings):
    settings.NOTICE_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()


def test_notices_are_stored_then_mailed_once(tree, working_days, smtp, django_capture_on_commit_callbacks):
    from config.celery import app

    tree["handler"].email = "handler@example.gov"
    tree["handler"].save()
    case = _started_case(tree, D(2025, 9, 26))

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the kick after commit runs the delivery in-process, as in the embedded run
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _check(D(2025, 9, 29))
    finally:
        app.conf.task_always_eager = saved
    notice = Notification.objects.get(user=tree["handler"])
    assert notice.email_state == "sent" and notice.email_attempts == 1
    assert [m.to for m in mail.outbox] == [["handler@example.gov"]]
    assert "催办" in mail.outbox[0].subject and case.reference in mail.outbox[0].body
    assert notices_deliver() == 0 and len(mail.outbox) == 1


def test_a_mail_server_that_is_down_loses_nothing_and_is_retried(tree, working_days, settings):
    settings.NOTICE_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    tree["handler"].email = "handler@example.gov"
    tree["handler"].save()
    _started_case(tree, D(2025, 9, 26))
    _check(D(2025, 9, 29))

    assert notices_deliver() == 0
    notice = Notification.objects.get(user=tree["handler"])
    assert notice.email_state == "pending" and notice.email_attempts >= 1 and notice.email_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    assert notices_deliver() == 1
    notice.refresh_from_db()
    assert notice.email_state == "sent" and len(mail.outbox) == 1


def test_an_officer_who_chose_the_digest_gets_one_mail_a_day(tree, working_days, smtp):
    tree["head"].email = "head@example.gov"
    tree["head"].notice_digest = True
    tree["head"].save()
    _started_case(tree, D(2025, 9, 26))
    _started_case(tree, D(2025, 9, 26))
    _check(D(2025, 10, 11))

    assert notices_deliver() == 0 or all(m.to != ["head@example.gov"] for m in mail.outbox)
    assert set(Notification.objects.filter(user=tree["head"]).values_list("email_state", flat=True)) == {"digest"}
    assert notices_digest_send() == 1
    digest = [m for m in mail.outbox if m.to == ["head@example.gov"]]
    assert len(digest) == 1 and "2 条" in digest[0].subject
    assert notices_digest_send() == 0


def test_without_smtp_notices_stay_in_app_only(tree, working_days, settings):
    settings.NOTICE_EMAIL_ENABLED = False
    tree["handler"].email = "handler@example.gov"
    tree["handler"].save()
    _started_case(tree, D(2025, 9, 26))
    _check(D(2025, 9, 29))
    assert Notification.objects.get(user=tree["handler"]).email_state == ""
    assert notices_deliver() == 0



# --- doors: the API action, the preference page, the admin ---------------------------------------

def test_request_material_through_the_api_pauses_and_a_second_request_is_refused(api, world):
    from tests.workflow.helpers import act, create_case

    case = create_case(api, world)
    act(api("inspector"), case["id"], "investigate")
    detail = api("inspector").get(f"/api/cases/{case['id']}/").json()
    assert "request_material" in detail["allowed_actions"]

    empty = act(api("inspector"), case["id"], "request_material", {"reason": ""})
    assert empty.status_code == 400 and not CasePause.objects.filter(case_id=case["id"]).exists()
    done = act(api("inspector"), case["id"], "request_material", {"reason": "请补充情况说明。"})
    assert done.status_code == 200, done.json()
    assert CasePause.objects.get(case_id=case["id"]).note == "请补充情况说明。"
    again = act(api("inspector"), case["id"], "request_material", {"reason": "再次补充。"})
    assert again.status_code == 409 and CasePause.objects.filter(case_id=case["id"]).count() == 1
    cadre = act(api("cadre"), case["id"], "request_material", {"reason": "我自己要求。"})
    assert cadre.status_code in (403, 404) and CasePause.objects.filter(case_id=case["id"]).count() == 1


def test_an_officer_chooses_the_daily_digest_and_a_bad_address_changes_nothing(client, world):
    user = world.users["inspector"]
    client.force_login(user)

    bad = client.post("/notifications/", {"form": "preference", "email": "不是邮箱", "digest": "1"})
    assert bad.status_code == 400 and "电子邮箱地址无效" in bad.content.decode()
    user.refresh_from_db()
    assert (user.email, user.notice_digest) == ("", False)

    ok = client.post("/notifications/", {"form": "preference", "email": "zhao@example.gov", "digest": "1"})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.notice_digest) == ("zhao@example.gov", True)


def test_the_admin_edits_limits_and_holidays(client, world):
    client.force_login(world.users["admin"])
    org = world.orgs["zjk"]
    zero = client.post("/admin/workflow/deadlinepolicy/add/", {"organisation": org.pk, "investigating_days": "0"})
    assert zero.status_code == 200 and "期限须至少为 1" in zero.content.decode()
    assert not DeadlinePolicy.objects.exists()

    added = client.post("/admin/workflow/deadlinepolicy/add/", {
        "organisation": org.pk, "days_kind": "working", "investigating_days": "20", "inquiry_reply_months": "1"})
    assert added.status_code == 302
    assert limits_for(world.orgs["zjk_dc"]).stage_days["investigating"] == 20
    page = client.get("/admin/workflow/deadlinepolicy/add/").content.decode()
    assert "于一个月内函复干部本人及其单位党组织主要负责人" in page

    holiday = client.post("/admin/workflow/holidaycalendarday/add/", {
        "date": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert holiday.status_code == 302 and not is_workday(D(2027, 1, 1))


def test_with_the_broker_down_the_notice_waits_pending_and_beat_delivers_it(tree, working_days, smtp, caplog,
                                                                            django_capture_on_commit_callbacks):
    from config.celery import app

    tree["handler"].email = "handler@example.gov"
    tree["handler"].save()
    _started_case(tree, D(2025, 9, 26))
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_connection_timeout)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens: publishing the kick fails
    app.conf.broker_connection_timeout = 1
    # New broker connections for this test only; the app's own pools are put back untouched afterwards.
    pools = (app._pool, app.amqp._producer_pool)
    app._pool = app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _check(D(2025, 9, 29))
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_connection_timeout = saved
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool, app.amqp._producer_pool = pools
    assert "notice delivery not queued" in caplog.text
    notice = Notification.objects.get(user=tree["handler"])
    assert notice.email_state == "pending" and mail.outbox == []

    assert notices_deliver() == 1  # what beat's notices_deliver runs
    notice.refresh_from_db()
    assert notice.email_state == "sent" and [m.to for m in mail.outbox] == [["handler@example.gov"]]
