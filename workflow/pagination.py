"""Keyset (cursor) pages ordered by a timestamp, then id: no COUNT and no OFFSET per request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class TimeCursorPagination(CursorPagination):
    """A cursor whose position is checked before it reaches the query.

    DRF decodes the cursor but passes its position to the filter as given; a crafted position that is
    not a timestamp would make the database layer raise (a 500). It is refused like any bad cursor.
    """

    page_size_query_param = "page_size"
    invalid_cursor_message = "翻页游标无效：请使用上一页返回的 next / previous 链接。"

    def decode_cursor(self, request: Any) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                parsed = parse_datetime(cursor.position)
                if parsed is None:
                    raise ValueError(cursor.position)
                # The database compares in UTC: a date at the calendar's edge must survive the shift.
                if timezone.is_naive(parsed):
                    parsed = timezone.make_aware(parsed)
                parsed.astimezone(dt.UTC)
            except (ValueError, OverflowError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
