"""Document numbers (发文字号): one gap-free counter per issuing organisation and year.

A number is taken in the same transaction that creates its document row. The counter row is locked
only for that short insert, so a rollback returns the number (no gap) and rendering never runs under
the lock.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import Organisation

from ..models import DocumentNumber


def number_next(*, organisation: Organisation, year: int) -> int:
    """The next number of an organisation's year, gap-free: must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next must run inside a transaction")
    counter = DocumentNumber.objects.select_for_update().filter(organisation=organisation, year=year).first()
    if counter is None:
        try:
            # A savepoint, so losing the race to create the row does not spoil the caller's transaction.
            with transaction.atomic():
                DocumentNumber.objects.create(organisation=organisation, year=year, last=0)
        except IntegrityError:
            pass  # created concurrently; lock the winner's row below
        counter = DocumentNumber.objects.select_for_update().get(organisation=organisation, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def number_format(organisation: Organisation, year: int, n: int) -> str:
    """The printed form of a number, e.g. 张纪容〔2026〕12号 (the short name, or the full name if none)."""
    return f"{organisation.short_name or organisation.name}〔{year}〕{n}号"
