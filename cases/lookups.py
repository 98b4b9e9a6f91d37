"""Two lookups the case lists need, written so they survive Django aliasing the case table in a subquery.

``any_of``: ``column = ANY(ARRAY(subquery))`` on PostgreSQL. The planner evaluates the subquery once (an
InitPlan) and reads the column's index for the ids it returned, so the condition can sit in an OR with
the other branches of a visibility rule and still be one bitmap among several; the plain
``IN (subquery)`` inside an OR becomes a per-row filter that reads the whole table. Elsewhere it is
the plain ``IN``.

``bigrams_match`` (registered on ``Case.id``): the case's stored bigram vector (PostgreSQL only, see
``cases.search``) matches the bigrams of the given text, read from its GIN index. ``term_starts``: the
vector holds a lexeme starting with the given character (a bigram it begins, or a word's last
character): a one-character search, also from the GIN index.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]


class _VectorMatch(Lookup):
    """The case's stored search vector (the column beside the id, under whatever alias the query gave the
    table) matches ``query``, a tsquery built from the text searched for."""

    prepare_rhs = False  # the text searched for, not an id
    query = ""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        table = lhs.rsplit(".", 1)[0]
        return f"{table}.search_bigrams @@ {self.query}", [*lhs_params, self.rhs]


class BigramsMatch(_VectorMatch):
    lookup_name = "bigrams_match"
    query = "plainto_tsquery('simple', case_search_bigrams(%s))"


class TermStarts(_VectorMatch):
    lookup_name = "term_starts"
    # quote_literal: the character as one quoted lexeme, whatever it is; ':*' asks for a prefix match.
    query = "to_tsquery('simple', quote_literal(lower(%s)) || ':*')"
