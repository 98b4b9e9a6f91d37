"""Template filters ``cn_date`` and ``cn_datetime``: the one date format of pages and documents.

Loaded as a built-in library (settings ``TEMPLATES``), so every template writes ``{{ x|cn_date }}``.
"""

from __future__ import annotations

import datetime as dt
import re

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


_ISO_IN_TEXT = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


@register.filter
def cn_dates_in(text: str) -> str:
    """Free text from the rule-set files (notes, sources) with its ISO dates written the one way.

    The files themselves keep ISO dates: they are data, and their content hash must not change.
    """
    if not isinstance(text, str):
        return text
    return _ISO_IN_TEXT.sub(lambda m: f"{int(m[1])}年{int(m[2])}月{int(m[3])}日", text)
