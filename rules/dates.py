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
