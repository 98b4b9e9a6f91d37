"""How long each stage may take before a case is overdue (催办/超期).

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


def is_workday(day: dt.date) -> bool:
    """A working day on the national calendar, local additions first."""
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
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def deadline_for(state: str, *, start: dt.date | None = None) -> dt.date | None:
    days = stage_days().get(state)
    if days is None:
        return None
    start = start or timezone.localdate()
    if in_working_days():
        return add_working_days(start, days)
    return start + dt.timedelta(days=days)


def appeal_window_days() -> int:
    return int(getattr(settings, "APPEAL_WINDOW_DAYS", 30))
