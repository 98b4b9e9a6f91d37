"""Keyset pages for the HTML lists: no OFFSET and no exact COUNT(*) per request.

A page is asked for by the position of a row (``after`` its last row for the next page, ``before`` its
first row for the previous one), so page 1 and page 40,000 cost the same: the database reads the list's
index from that position. Rows are ordered by one column, newest first, then by id; a list may also
come in segments read one after another (the inbox shows overdue cases first: segment 0 is the overdue
cases, segment 1 the rest), and the position names its segment too.

How many rows match is counted up to a bound (``COUNT_BOUND``): "共 37 件" when there are fewer, and
"1,000 件以上" when there are more, so a list never counts a province's cases to show one page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connections
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

COUNT_BOUND = 1000
INVALID_POSITION = "翻页位置无效，已回到第一页。"


class PositionError(ValueError):
    """A position that is not one this module wrote: the page says so and shows the first page."""


def parse_moment(text: str) -> dt.datetime:
    """A timestamp written in a position (aware, and able to shift to UTC, as the database compares it);
    ``ValueError`` when it is not one."""
    parsed = parse_datetime(text)
    if parsed is None:
        raise ValueError(text)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    parsed.astimezone(dt.UTC)  # a date at the calendar's edge must survive the shift to UTC (OverflowError)
    return parsed


def beyond(column: str, value: Any, pk: int, *, forward: bool, pk_field: str = "id") -> Q:
    """Rows after (``forward``, in the newest-first order) or before the row at (value, pk), in a form
    the index serves: a range, then the tie broken by id (``pk_field``)."""
    if forward:
        return Q(**{f"{column}__lte": value}) & (Q(**{f"{column}__lt": value}) | Q(**{column: value, f"{pk_field}__lt": pk}))
    return Q(**{f"{column}__gte": value}) & (Q(**{f"{column}__gt": value}) | Q(**{column: value, f"{pk_field}__gt": pk}))


@dataclass(frozen=True)
class Position:
    segment: int
    value: Any
    pk: int


@dataclass
class KeysetPage:
    rows: list[Any]
    next_position: str | None = None
    previous_position: str | None = None
    count: int | None = None  # set by the view when it counts (``bounded_count``)
    more: bool = False
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    unit: str = "件"  # what the count counts in: 件 (cases, matters), 条 (records)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_position or self.previous_position)

    @property
    def count_label(self) -> str:
        """共 37 件, or 1,000 件以上 when the bound was reached ("" when the list was not counted)."""
        if self.count is None:
            return ""
        return f"{COUNT_BOUND:,} {self.unit}以上" if self.more else f"共 {self.count} {self.unit}"


def rows_in_order(qs: QuerySet, ids: list[int]) -> list[Any]:
    """The rows with these ids, in this order, with ``qs``'s related rows (``select_related``, prefetches)
    and only the columns it loads (``only``).

    A page is found in two steps: the ids, in order, from the list's index alone (a query the planner
    settles quickly: no joins), then these rows and what each row shows, by primary key. Joining the
    persons and organisations into the ordered query costs more to plan than to run.
    """
    if not ids:
        return []
    fetch = qs.model._default_manager.filter(pk__in=ids).order_by()  # in the ids' order, below
    fetch.query.select_related = qs.query.select_related
    fetch.query.deferred_loading = qs.query.deferred_loading  # what ``only()`` / ``defer()`` asked for
    fetch = fetch.prefetch_related(*qs._prefetch_related_lookups)
    found = {row.pk: row for row in fetch}
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class Via:
    """Another table's rows that name a branch's rows and carry a copy of the list's order column: the
    consultations of a department, each with its case's creation time. Read newest first from their own
    index, they give the branch's keys without reading each listed row to learn where it falls."""

    keys: QuerySet  # e.g. one department's consultations
    column: str  # their copy of the list's column ("case_created_at")
    ref: str  # their reference to the listed row ("case_id"); several may name the same row

    def beyond(self, value: Any, pk: int, *, forward: bool) -> Via:
        return replace(self, keys=self.keys.filter(beyond(self.column, value, pk, forward=forward, pk_field=self.ref)))

    def naming(self, rows: QuerySet) -> QuerySet:
        """Those of ``keys`` that name one of ``rows`` (the list's rows with its filters, this branch aside)."""
        if not rows.query.where:
            return self.keys  # every row they name is in the list: no need to ask
        return self.keys.filter(**{f"{self.ref}__in": rows.order_by().values("pk")})


@dataclass(frozen=True)
class Part:
    """One branch of a list (``workflow.selectors.case_list_parts``), ordered as its index serves it.

    ``gather``: for a page, read the branch's rows whole from its index and sort them, rather than walk
    the list's order testing each row. Right when the branch's rows are rare among the newest (cases in a
    few states, decided cases), where a walk from the newest would pass thousands of rows to find a page.

    ``via``: the branch's keys come from another table's copy of the order (``Via``), walked newest first;
    ``rows`` is then the list with its filters but without this branch's own condition, which ``via`` is.
    """

    qs: QuerySet
    gather: bool = False
    via: Via | None = None
    rows: QuerySet | None = None

    def filter(self, where: Q) -> Part:
        return replace(self, qs=self.qs.filter(where), rows=None if self.rows is None else self.rows.filter(where))

    def beyond(self, column: str, value: Any, pk: int, *, forward: bool) -> Part:
        """The part's rows after (or before) the row at (value, pk) in the list's order. Read through ``via``,
        the position is its copy's range alone: asked of ``rows`` as well, it would make every later page
        test each key against a subquery of all the older rows."""
        if self.via is None:
            return self.filter(beyond(column, value, pk, forward=forward))
        return replace(self, qs=self.qs.filter(beyond(column, value, pk, forward=forward)),
                       via=self.via.beyond(value, pk, forward=forward))

    def keys(self, column: str, limit: int, *, descending: bool, unordered: Any = None) -> QuerySet:
        """Up to ``limit`` (value, id) pairs of this part in the list's order: from ``via`` when it has one."""
        if self.via is not None:
            via, rows = self.via, self.rows if self.rows is not None else self.qs
            order = (f"-{via.column}", f"-{via.ref}") if descending else (via.column, via.ref)
            return via.naming(rows).order_by(*order).values_list(via.column, via.ref).distinct()[:limit]
        order = (f"-{column}", "-id") if descending else (column, "id")
        if self.gather and unordered is not None:
            order = (unordered.desc(), F("id").desc()) if descending else (unordered.asc(), F("id").asc())
        return self.qs.order_by(*order).values_list(column, "id")[:limit]

    def ids(self, limit: int) -> QuerySet:
        """Up to ``limit`` ids of this part's rows, in the order its index serves them (for counting)."""
        if self.via is not None:
            rows = self.rows if self.rows is not None else self.qs
            return self.via.naming(rows).order_by().values(self.via.ref).distinct()[:limit]
        return self.qs.values("pk")[:limit]


def bounded_count(qs: QuerySet, bound: int = COUNT_BOUND, *, parts: list[Part] | None = None) -> tuple[int, bool]:
    """How many rows ``qs`` has, reading at most ``bound + 1`` of them; and whether there are more.

    Without ``parts`` the rows are taken in the list's own order, so the count reads the list's index like
    the page did. ``parts``: ``Part``s whose querysets' union is ``qs``, each ordered as an index serves it
    (the list once per branch of the visibility rule, ``workflow.selectors.case_list_parts``). Each is read on its own
    up to the bound and the union of those ids is counted: if any part reaches the bound so does the union,
    and otherwise every part was read whole, so the figure is exact.
    """
    limit = bound + 1
    if parts is None:
        n = qs.values("pk")[:limit].count()
    elif not parts:
        n = 0
    elif len(parts) == 1:
        n = parts[0].ids(limit).count()
    elif connections[qs.db].features.supports_slicing_ordering_in_compound:
        limited = [part.ids(limit) for part in parts]
        n = limited[0].union(*limited[1:]).count()
    else:
        n = len(set().union(*({next(iter(row.values())) for row in part.ids(limit)} for part in parts)))
    return min(n, bound), n > bound


def ordered_keys(qs: QuerySet, column: str, limit: int, *, descending: bool = True,
                 parts: list[Part] | None = None) -> list[tuple[Any, int]]:
    """The first ``limit`` (value of ``column``, id) pairs of ``qs`` ordered by ``column`` then id.

    ``parts``: ``Part``s whose querysets' union is ``qs`` (the list once per branch of the visibility rule,
    with the same filters). Each is read on its own up to ``limit`` in the list's order and the pairs are
    merged: a branch served by its own index (a department's cases by ``case_org_created_idx``) stops
    after a page, where the one condition ORing every branch walks the whole table's order testing each
    row, and tests a list of consulted case ids against every row it meets. A part that ``gather``s is
    sorted by an expression no index serves, so the planner reads it by its condition and sorts it.
    """
    order = (f"-{column}", "-id") if descending else (column, "id")
    if not parts:
        return list(qs.order_by(*order).values_list(column, "id")[:limit]) if parts is None else []
    column_field = qs.model._meta.get_field(column)
    # A timestamp plus nothing: the same order, which no index offers (a date column is always walked).
    unordered = ExpressionWrapper(F(column) + Value(dt.timedelta(0)), output_field=column_field) \
        if isinstance(column_field, DateTimeField) else None
    # The union is ordered by the first part's column names: a part read through another table goes last.
    parts = sorted(parts, key=lambda part: part.via is not None)
    limited = [part.keys(column, limit, descending=descending, unordered=unordered) for part in parts]
    if len(limited) == 1:
        return list(limited[0])
    if connections[qs.db].features.supports_slicing_ordering_in_compound:
        first = parts[0].via
        names = (first.column, first.ref) if first is not None else (column, "id")
        union_order = (f"-{names[0]}", f"-{names[1]}") if descending else names
        return list(limited[0].union(*limited[1:]).order_by(*union_order)[:limit])
    return sorted(set().union(*limited), reverse=descending)[:limit]


class Keyset:
    """Pages of ``qs`` ordered by ``column`` descending then id descending, in optional segments.

    ``segments`` are conditions read in order (each row belongs to exactly one); without them the
    whole queryset is one segment. ``column`` is a ``DateTimeField`` or a ``DateField`` of the model.
    ``parts`` (``ordered_keys``): the same list once per branch of the visibility rule, read one by one.
    """

    def __init__(self, column: str, *, size: int, segments: list[Q] | None = None) -> None:
        self.column = column
        self.size = size
        self.segments = segments or [Q()]

    # Positions travel in links: opaque, URL-safe, and checked on the way back in.
    def encode(self, segment: int, key: tuple[Any, int]) -> str:
        """The position of a row: its segment, its value of the column, its id."""
        value, pk = key
        raw = json.dumps([segment, value.isoformat(), pk], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, text: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
            segment, value, pk = json.loads(raw.decode())
            if not (isinstance(segment, int) and 0 <= segment < len(self.segments)):
                raise ValueError(segment)
            if not (isinstance(pk, int) and 0 < pk < 2**63) or not isinstance(value, str) or len(value) > 40:
                raise ValueError(pk)
            parsed: Any = parse_moment(value) if "T" in value else parse_date(value)
            if parsed is None:
                raise ValueError(value)
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, OverflowError):
            raise PositionError(INVALID_POSITION) from None
        return Position(segment, parsed, pk)

    def _beyond(self, position: Position, *, forward: bool) -> Q:
        return beyond(self.column, position.value, position.pk, forward=forward)

    def page(self, qs: QuerySet, *, after: str = "", before: str = "",
             parts: list[Part] | None = None) -> KeysetPage:
        """One page after ``after`` or before ``before`` (positions from earlier pages' links), or the first."""
        error = ""
        try:
            if before:
                return self._backward(qs, self.decode(before), parts)
            position = self.decode(after) if after else None
        except PositionError as exc:
            error, position = str(exc), None
        page = self._forward(qs, position, parts)
        page.error = error
        return page

    def _keys(self, qs: QuerySet, parts: list[Part] | None, segment: int, position: Position | None, limit: int, *,
              forward: bool) -> list[tuple[Any, int]]:
        """The keys of one segment, from ``position`` on (when it is in this segment)."""
        where = self.segments[segment]
        if parts is not None:
            parts = [part.filter(where) for part in parts]
        if position is not None and position.segment == segment:
            where &= self._beyond(position, forward=forward)
            if parts is not None:
                parts = [part.beyond(self.column, position.value, position.pk, forward=forward) for part in parts]
        return ordered_keys(qs.filter(where), self.column, limit, descending=forward, parts=parts)

    def _forward(self, qs: QuerySet, position: Position | None,
                 parts: list[Part] | None = None) -> KeysetPage:
        found: list[tuple[int, Any]] = []
        first = position.segment if position else 0
        for segment in range(first, len(self.segments)):
            found += [(segment, key) for key in self._keys(qs, parts, segment, position, self.size + 1 - len(found),
                                                            forward=True)]
            if len(found) > self.size:
                break
        rows = found[: self.size]
        return KeysetPage(
            rows=rows_in_order(qs, [pk for _, (_, pk) in rows]),
            next_position=self.encode(*rows[-1]) if len(found) > self.size else None,
            previous_position=self.encode(*rows[0]) if position is not None and rows else None,
        )

    def _backward(self, qs: QuerySet, position: Position, parts: list[Part] | None = None) -> KeysetPage:
        found: list[tuple[int, Any]] = []
        for segment in range(position.segment, -1, -1):
            found += [(segment, key) for key in self._keys(qs, parts, segment, position, self.size + 1 - len(found),
                                                            forward=False)]
            if len(found) > self.size:
                break
        rows = list(reversed(found[: self.size]))
        if len(found) <= self.size:
            # Fewer than a page before this position: this is the first page; show it whole.
            return self._forward(qs, None, parts)
        return KeysetPage(
            rows=rows_in_order(qs, [pk for _, (_, pk) in rows]),
            next_position=self.encode(*rows[-1]) if rows else None,
            previous_position=self.encode(*rows[0]),
        )
