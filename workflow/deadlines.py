"""How long each stage may take before a case is overdue (催办/超期).

Per jurisdiction: an organisation's ``DeadlinePolicy`` (in the admin) sets its stage limits, the
reminder lead, the escalation period and the way days are counted; a blank field is inherited from
the parent organisation, up the tree, and in the end from the settings below. Holiday arrangements
an administrator enters (``HolidayCalendarDay``) override and extend the bundled calendar.

The documents name no time limits for these stages (Hohhot art. 8 gives one month for a reply to
an inquiry, 函询), so they are configuration: ``STAGE_DEADLINE_DAYS`` in settings overrides these.
They count calendar days unless ``STAGE_DEADLINE_DAYS_KIND = "working"``: then they count working
days (工作日) on the national calendar, with public holidays and make-up working days (调休) as the
State Council announces them each year (bundled through the ``chinesecalendar`` package; a year it
does not cover yet counts Monday to Friday, plus any dates given in ``WORK_CALENDAR_EXTRA_*``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_STAGE_DAYS = {
    "started": 7,
    "investigating": 30,
    "proposed": 15,
    "decided": 10,
    "appealed": 30,
}


def stage_days() -> dict[str, int]:
    return {**DEFAULT_STAGE_DAYS, **getattr(settings, "STAGE_DEADLINE_DAYS", {})}


def in_working_days() -> bool:
    return getattr(settings, "STAGE_DEADLINE_DAYS_KIND", "calendar") == "working"


def _dates(setting: str) -> frozenset[dt.date]:
    values = getattr(settings, setting, []) or []
    try:
        return frozenset(v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v).strip()) for v in values)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting} 中有无效日期（应为 YYYY-MM-DD）：{exc}") from None


@functools.cache
def _warn_uncovered(year: int) -> None:
    logger.warning("工作日历未包含 %s 年的节假日安排：按周一至周五计算，请通过 WORK_CALENDAR_EXTRA_* 补充", year)


def _entered(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """The administrator's entries from ``start`` to ``end``: True for a make-up workday, False for a holiday."""
    from .models import CalendarDayKind, HolidayCalendarDay

    rows = HolidayCalendarDay.objects.filter(date__range=(min(start, end), max(start, end))).values_list("date", "kind")
    return {day: kind == CalendarDayKind.WORKDAY for day, kind in rows}


def bundled_year_covered(year: int) -> bool:
    import chinese_calendar

    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_covered(year: int) -> bool:
    """Whether the holiday arrangement of ``year`` is known: bundled, or entered in the admin."""
    from .models import CalendarDayKind, HolidayCalendarDay

    return bundled_year_covered(year) or HolidayCalendarDay.objects.filter(
        date__year=year, kind=CalendarDayKind.HOLIDAY).exists()


def calendar_warning(today: dt.date | None = None) -> str:
    """From 1 December, the warning shown when next year's holiday arrangement is missing ("" if none)."""
    today = today or timezone.localdate()
    if today.month != 12 or year_covered(today.year + 1):
        return ""
    return (f"尚未录入 {today.year + 1} 年的节假日安排（国务院办公厅每年11月前后公布）。"
            f"在录入前，按工作日计算的办理期限只扣除周末。请系统管理员在后台“节假日安排”中录入放假和调休上班日期。")


def is_workday(day: dt.date, entered: dict[dt.date, bool] | None = None) -> bool:
    """A working day: the administrator's entries first, then the settings' additions, then the bundled calendar.

    ``entered`` is the admin entries already loaded for a range (one query for a whole count).
    """
    if entered is None:
        entered = _entered(day, day)
    if day in entered:
        return entered[day]
    if day in _dates("WORK_CALENDAR_EXTRA_WORKDAYS"):
        return True
    if day in _dates("WORK_CALENDAR_EXTRA_HOLIDAYS"):
        return False
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    day = start
    counted = 0
    entered = _entered(start, start + dt.timedelta(days=days * 3 + 60))
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day, entered):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in [start, end): how far the clock stood still from ``start`` to ``end``."""
    day, count = start, 0
    entered = _entered(start, end)
    while day < end:
        if is_workday(day, entered):
            count += 1
        day += dt.timedelta(days=1)
    return count


def subtract_working_days(end: dt.date, days: int) -> dt.date:
    """The date from which ``end`` is the ``days``-th working day (the inverse of ``add_working_days``)."""
    day, counted = end, 0
    entered = _entered(end - dt.timedelta(days=days * 3 + 60), end)
    while counted < days:
        if is_workday(day, entered):
            counted += 1
        day -= dt.timedelta(days=1)
    return day


# Defaults of the figures a jurisdiction may set; configuration, not policy (the documents give none).
DEFAULT_REMINDER_LEAD_DAYS = 3
DEFAULT_ESCALATION_DAYS = 5
DEFAULT_INQUIRY_REPLY_MONTHS = 1  # 呼和浩特 第8条：于一个月内函复

POLICY_STAGE_FIELDS = {state: f"{state}_days" for state in DEFAULT_STAGE_DAYS}


@dataclass(frozen=True)
class Limits:
    """The figures in force for one organisation, each resolved up the tree and then from settings."""

    stage_days: dict[str, int]
    working: bool
    reminder_lead_days: int
    escalation_days: int
    inquiry_reply_months: int
    # Months after delivery for return visits when the organisation or one above it set them (else None).
    return_visit_months: list[int] | None = None

    def add(self, start: dt.date, days: int) -> dt.date:
        return add_working_days(start, days) if self.working else start + dt.timedelta(days=days)

    def subtract(self, end: dt.date, days: int) -> dt.date:
        return subtract_working_days(end, days) if self.working else end - dt.timedelta(days=days)

    def between(self, start: dt.date, end: dt.date) -> int:
        return working_days_between(start, end) if self.working else max((end - start).days, 0)

    def deadline_for(self, state: str, start: dt.date) -> dt.date | None:
        days = self.stage_days.get(state)
        return None if days is None else self.add(start, days)


def limits_for(org: object | None) -> Limits:
    """The limits in force for ``org`` (an Organisation or None): its policy, its parents', then settings."""
    from .models import DeadlinePolicy

    chain = [org, *org.ancestors()] if org is not None else []  # type: ignore[attr-defined]
    policies = {p.organisation_id: p for p in DeadlinePolicy.objects.filter(organisation__in=[o.pk for o in chain])}
    ordered = [policies[o.pk] for o in chain if o.pk in policies]

    def first(field: str) -> object | None:
        for policy in ordered:
            value = getattr(policy, field)
            if value not in (None, ""):
                return value
        return None

    days = stage_days()
    for state, field in POLICY_STAGE_FIELDS.items():
        value = first(field)
        if value is not None:
            days[state] = int(value)  # type: ignore[call-overload]
    kind = first("days_kind")
    return Limits(
        stage_days=days,
        working=(kind == "working") if kind else in_working_days(),
        reminder_lead_days=_int(first("reminder_lead_days"),
                                getattr(settings, "DEADLINE_REMINDER_LEAD_DAYS", DEFAULT_REMINDER_LEAD_DAYS)),
        escalation_days=_int(first("escalation_days"),
                             getattr(settings, "DEADLINE_ESCALATION_DAYS", DEFAULT_ESCALATION_DAYS)),
        inquiry_reply_months=_int(first("inquiry_reply_months"), DEFAULT_INQUIRY_REPLY_MONTHS),
        return_visit_months=_visit_months(first("return_visit_months")),
    )


def _visit_months(value: object | None) -> list[int] | None:
    from .models import parse_visit_months

    if not value:
        return None
    try:
        return parse_visit_months(str(value))
    except ValueError:
        return None


def _int(value: object | None, default: int) -> int:
    return default if value is None else int(value)  # type: ignore[call-overload]


def deadline_for(state: str, *, start: dt.date | None = None, org: object | None = None) -> dt.date | None:
    start = start or timezone.localdate()
    if org is not None:
        return limits_for(org).deadline_for(state, start)
    days = stage_days().get(state)
    if days is None:
        return None
    if in_working_days():
        return add_working_days(start, days)
    return start + dt.timedelta(days=days)


def appeal_window_days() -> int:
    return int(getattr(settings, "APPEAL_WINDOW_DAYS", 30))
