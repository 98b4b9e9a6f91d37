"""Stage deadlines in calendar days or working days (工作日, with holidays and 调休 make-up days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case
from tests.foundation.test_configuration import run_manage
from workflow.deadlines import add_working_days, deadline_for, is_workday

from .helpers import create_case

D = dt.date


def test_calendar_days_are_the_default(settings):
    assert deadline_for("started", start=D(2026, 9, 30)) == D(2026, 10, 7)


@pytest.mark.django_db  # the administrator's holiday entries are read first
def test_working_days_skip_national_day_and_count_the_make_up_saturday(settings):
    settings.STAGE_DEADLINE_DAYS_KIND = "working"

    # 2026: 1-7 October off; Saturday 10 October is a working day (调休); 11 October is Sunday.
    assert not is_workday(D(2026, 10, 1)) and is_workday(D(2026, 10, 10)) and not is_workday(D(2026, 10, 11))
    assert deadline_for("started", start=D(2026, 9, 30)) == D(2026, 10, 15)
    # Spring Festival 2026: 15-23 February off, Saturday 14 and 28 February worked.
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)


@pytest.mark.django_db  # the administrator's holiday entries are read first
def test_a_year_not_yet_announced_counts_weekdays_plus_the_dates_a_site_adds(settings):
    settings.STAGE_DEADLINE_DAYS_KIND = "working"
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)  # Friday, no 2027 arrangement bundled

    settings.WORK_CALENDAR_EXTRA_HOLIDAYS = ["2027-01-01"]
    settings.WORK_CALENDAR_EXTRA_WORKDAYS = ["2027-01-02"]
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 2)
    assert add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)


@pytest.mark.django_db
def test_a_new_case_gets_a_working_day_deadline_when_configured(api, world, settings):
    settings.STAGE_DEADLINE_DAYS_KIND = "working"
    settings.STAGE_DEADLINE_DAYS = {"started": 1}
    today = timezone.localdate()
    # The next three days are declared holidays, so the one working day lands after them.
    settings.WORK_CALENDAR_EXTRA_HOLIDAYS = [(today + dt.timedelta(days=i)).isoformat() for i in (1, 2, 3)]

    case = create_case(api, world)

    deadline = Case.objects.get(pk=case["id"]).deadline
    assert deadline > today + dt.timedelta(days=3) and is_workday(deadline)
    assert case["deadline"] == deadline.isoformat()


def test_an_unknown_way_of_counting_is_one_clear_line_at_start():
    result = run_manage("check", STAGE_DEADLINE_DAYS_KIND="weekly")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "STAGE_DEADLINE_DAYS_KIND" in result.stderr and "工作日" in result.stderr


def test_a_malformed_extra_holiday_is_one_clear_line_at_start():
    result = run_manage("check", WORK_CALENDAR_EXTRA_HOLIDAYS="2027-01-01,2027-13-40")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "WORK_CALENDAR_EXTRA_HOLIDAYS" in result.stderr
