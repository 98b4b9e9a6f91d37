"""A version's clause structure compiled to index arrays, and the engine's codes and version.

Owns ``Compiled`` (built once per version, cached on it), the small integer codes the hot loop of
``rules.evaluation`` works with (``rules.presentation`` turns them back into words) and
``ENGINE_VERSION``, which every stored evaluation records.
"""

from __future__ import annotations

from rules.definitions import RuleSetVersion

ENGINE_VERSION = "1.1.0"

# Small ints rather than strings: the evaluation loop compares them many times per call.
UNKNOWN, MET, NOT_MET = 0, 1, 2
CODES = {"met": MET, "not_met": NOT_MET, "unknown": UNKNOWN}
NAMES = ("unknown", "met", "not_met")
TOLERABLE, NOT_TOLERABLE, UNDETERMINED = "tolerable", "not_tolerable", "undetermined"
FAVOUR_RANK = {NOT_TOLERABLE: 0, UNDETERMINED: 1, TOLERABLE: 2}


class Compiled:
    """A version's clause structure as index arrays, built once per version."""

    __slots__ = (
        "ids",
        "index",
        "kinds",
        "p",
        "s",
        "x",
        "m",
        "reqs",
        "parts",
        "parent",
        "derived",
        "answers",
        "unfavourable",
        "compound",
        "any",
        "situation_of",
        "order",
        "questions",
        "default",
    )

    def __init__(self, version: RuleSetVersion) -> None:
        clauses = version.clauses
        self.ids = [c.id for c in clauses]
        self.index = {c.id: i for i, c in enumerate(clauses)}
        self.kinds = [c.kind for c in clauses]
        top = [i for i, c in enumerate(clauses) if c.parent is None]
        self.p = [i for i in top if self.kinds[i] == "P"]
        self.s = [i for i in top if self.kinds[i] == "S"]
        self.x = [i for i in top if self.kinds[i] == "X"]
        self.m = [i for i in top if self.kinds[i] == "M"]
        self.reqs = {
            i: [self.index[c.id] for c in clauses if c.kind == "R" and c.applies_to == clauses[i].id]
            for i in self.s
        }
        self.situation_of = {r: s for s, rs in self.reqs.items() for r in rs}
        self.parts = {i: [self.index[p] for p in c.parts] for i, c in enumerate(clauses) if c.parts}
        self.compound = list(self.parts)
        # The compound clauses met when any one part is met (the others need every part met).
        self.any = frozenset(i for i in self.parts if clauses[i].combine == "any")
        self.parent = [self.index[c.parent] if c.parent else -1 for c in clauses]
        self.derived = [
            (i, c.derive.source, c.derive.if_true, c.derive.if_false)
            for i, c in enumerate(clauses)
            if c.derive is not None
        ]
        self.answers: dict[str, list[tuple[int, dict[str, int]]]] = {}
        for i, c in enumerate(clauses):
            for question, mapping in c.answers:
                self.answers.setdefault(question, []).append((i, {k: CODES[v] for k, v in mapping}))
        self.questions = frozenset(self.answers)
        self.default = [bool(c.default_rule) for c in clauses]
        # The status that goes against the cadre: overriding a derived one of these needs a reason.
        self.unfavourable = [MET if k == "X" else NOT_MET for k in self.kinds]
        # Order in which `missing` is listed: prerequisites, exclusions, then situations with requirements
        # (a compound clause before its parts: it is listed itself only when attested whole as unknown).
        order: list[int] = []
        for i in self.p + self.x:
            order.extend([i, *self.parts.get(i, ())])
        for i in self.s:
            order.extend([i, *self.parts.get(i, ())])
            for r in self.reqs[i]:
                order.extend([r, *self.parts.get(r, ())])
        self.order = order


def compiled(version: RuleSetVersion) -> Compiled:
    """The compiled structure of ``version``, built on first use and kept on the version."""
    if version.compiled is None:
        version.compiled = Compiled(version)
    return version.compiled
