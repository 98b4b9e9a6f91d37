"""Date values as rule files and callers write them: a ``date`` or an ISO ``YYYY-MM-DD`` string."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from rules.errors import InvalidDateError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@functools.lru_cache(maxsize=8192)
def _iso_date(value: str) -> dt.date | None:
    # Cached: bulk re-evaluation parses the same few conduct dates many thousands of times.
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def to_date(value: Any, field: str = "日期") -> dt.date:
    """Accept a date or an ISO ``YYYY-MM-DD`` string; anything else is an InvalidDateError."""
    if type(value) is dt.date:
        return value
    if isinstance(value, str):
        parsed = _iso_date(value)
        if parsed is not None:
            return parsed
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise InvalidDateError(value, field)


def cn_date(value: dt.date | None) -> str:
    """The one way a date is written for people (GB/T 9704, no leading zeros): 2027年1月1日.

    A datetime is first turned into the site's local date. ``None`` is the empty string.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    """A moment as people read it, in the site's time zone: 2027年1月1日 09:05."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return cn_date(value)
    local = _local(value)
    return f"{cn_date(local.date())} {local:%H:%M}"


def _local(value: dt.datetime) -> dt.datetime:
    # Django is imported here only: the engine parses dates without it.
    from django.utils import timezone

    return timezone.localtime(value) if timezone.is_aware(value) else value
