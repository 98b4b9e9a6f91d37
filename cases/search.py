"""Finding cases by what a person types in one search box: the case number, the title, the cadre's or
unit's name, or words of the summary.

A case number (容案2026-00017, or 2026-00017) is matched exactly on the stored, uniquely indexed
``Case.reference``; digits alone also match the NNNNN part (the case's id). Text is matched word by
word (separated by spaces), each word anywhere in the title, the summary, the subject's name or the
subject's unit. On PostgreSQL a word of two or more characters is first looked up in the GIN index of
character bigrams (``search_bigrams``, see the migration that creates it), so a two-character name
such as 王某 is found without reading the table; the plain contains then checks the few candidates.
A one-character word asks the same index for the lexemes that start with it (the bigrams it begins,
and the last characters of words, stored for this). SQLite uses the plain contains alone.
"""

from __future__ import annotations

import re

from django.db import connections
from django.db.models import Q, QuerySet

# The longest text a search takes: longer input is cut (a search box, not a document).
SEARCH_MAX_LENGTH = 100
_NUMBER = re.compile(r"^(?:容案)?(\d{4})\s*[-－—]\s*(\d{1,12})$")
_SEQUENCE = re.compile(r"^\d{1,12}$")


def reference_of(text: str) -> str | None:
    """The stored form of a case number typed as 容案2026-00017, 2026-00017 or 2026-17; None if it is not one."""
    found = _NUMBER.match(text.strip())
    if found is None:
        return None
    return f"容案{found[1]}-{int(found[2]):05d}"


def _contains(word: str) -> Q:
    return (Q(title__icontains=word) | Q(summary__icontains=word) | Q(subject__name__icontains=word)
            | Q(subject__unit__name__icontains=word))


def case_search(qs: QuerySet, text: str) -> QuerySet:
    """``qs`` narrowed to the cases the search box text finds (``qs`` unchanged for empty text)."""
    text = (text or "").strip()[:SEARCH_MAX_LENGTH]
    if not text:
        return qs
    reference = reference_of(text)
    if reference is not None:
        return qs.filter(reference=reference)
    words = text.split()
    condition = Q()
    for word in words:
        condition &= _contains(word)
    indexed = " ".join(w for w in words if len(w) >= 2)
    if connections[qs.db].vendor == "postgresql":
        # The SQL is a constant; what was typed goes in as a parameter.
        if indexed:
            condition = Q(id__bigrams_match=indexed) & condition
        else:
            # One character (a surname): the lexemes that start with it — the bigrams it begins and the
            # words it ends (the migration 0013_search_word_ends). Only for a letter or an ASCII digit:
            # the text-search parser drops punctuation and symbols (², Ⅷ), which would leave the index
            # nothing to match; the plain contains still finds those.
            single = next((w for w in words if w.isalpha() or w in "0123456789"), "")
            if single:
                condition = Q(id__term_starts=single) & condition
    if _SEQUENCE.match(text):
        condition |= Q(pk=int(text))
    return qs.filter(condition)
