"""Keyset (cursor) pages ordered by a timestamp, then id: no COUNT and no OFFSET per request."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from listing.keyset import beyond, ordered_keys, parse_moment


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
                parse_moment(cursor.position)
            except (ValueError, OverflowError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor


class PairCursorPagination(CursorPagination):
    """Keyset pages over (``column``, id), newest first, whose position is the pair: every position is
    unique, so a page never steps over ties with an offset (DRF's cursor compares the first ordering
    column alone and skips ties with an offset it caps at 1,000).

    ``paginate_queryset`` returns the page's (value, id) pairs, read by ``listing.keyset.ordered_keys``
    from the list's index alone; the view then reads the rows it shows by id. ``parts``: the list once per
    branch of the visibility rule (``workflow.selectors.case_list_parts``), each read from its own index.
    """

    column = "created_at"
    page_size_query_param = "page_size"
    invalid_cursor_message = "翻页游标无效：请使用上一页返回的 next / previous 链接。"

    def parse_value(self, text: str) -> Any:
        """The column's value in a position (``ValueError`` when it is not one); a timestamp unless overridden."""
        return parse_moment(text)

    def _parse(self, position: str) -> tuple[Any, int] | None:
        value, _, pk = position.rpartition("_")
        try:
            parsed, number = self.parse_value(value), int(pk)
        except (ValueError, OverflowError):
            return None
        if parsed is None or not 0 < number < 2**63:
            return None
        return parsed, number

    def decode_cursor(self, request: Any) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and self._parse(cursor.position) is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def _get_position_from_instance(self, instance: Any, ordering: Any) -> str:
        value, pk = instance
        return f"{value.isoformat()}_{pk}"

    def paginate_queryset(self, queryset: QuerySet, request: Any, view: Any = None,
                          parts: list[Any] | None = None) -> list[tuple[Any, int]]:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        self.ordering = (f"-{self.column}", "-id")
        reverse = bool(self.cursor and self.cursor.reverse)
        position = self.cursor.position if self.cursor else None
        where = Q()
        if position is not None:
            value, pk = self._parse(position)  # type: ignore[misc]  # checked in decode_cursor
            # Reverse: the rows before this page (newer), nearest first.
            where = beyond(self.column, value, pk, forward=not reverse)
            if parts is not None:
                parts = [part.beyond(self.column, value, pk, forward=not reverse) for part in parts]
        keys = ordered_keys(queryset.filter(where), self.column, self.page_size + 1, descending=not reverse,
                            parts=parts)
        self.page = keys[:self.page_size]
        following = self._get_position_from_instance(keys[-1], None) if len(keys) > self.page_size else None
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = position is not None, following is not None
            self.next_position, self.previous_position = position, following
        else:
            self.has_next, self.has_previous = following is not None, position is not None
            self.next_position, self.previous_position = following, position
        return self.page
