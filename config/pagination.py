"""The API's default page: a keyset cursor, newest first, for any list view that names no paginator of its own."""

from __future__ import annotations

from workflow.pagination import TimeCursorPagination


class CreatedCursorPagination(TimeCursorPagination):
    """Pages over (created_at, id): every listed model has ``created_at``; no COUNT and no OFFSET per request.

    A list with another natural order (the filing register by decision time, cases by activity)
    subclasses ``TimeCursorPagination`` with its own ``ordering``, served by an index.
    """

    ordering = ("-created_at", "-id")
    max_page_size = 500
