"""Template filters ``cn_date`` and ``cn_datetime``: the one date format of pages and documents.

Loaded as a built-in library (settings ``TEMPLATES``), so every template writes ``{{ x|cn_date }}``.
"""

from __future__ import annotations

import datetime as dt

from django import template

from rules import dates

register = template.Library()


@register.filter
def cn_date(value: dt.date | None) -> str:
    """2027年1月1日; empty for a missing value (use ``|default:"—"`` after it)."""
    if not isinstance(value, dt.date):
        return ""
    return dates.cn_date(value)


@register.filter
def cn_datetime(value: dt.datetime | None) -> str:
    """2027年1月1日 09:05 in the site's time zone."""
    if not isinstance(value, dt.date):
        return ""
    return dates.cn_datetime(value)
