"""The parsed, immutable shape of a rule set: versions, clauses, parameters, common questions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

KINDS = ("P", "S", "X", "R", "M")
KIND_LABELS = {
    "P": "前置条件",
    "S": "容错情形",
    "X": "不予容错情形",
    "R": "程序要求",
    "M": "从轻减轻情形",
}
KIND_RULES = {
    "P": "须全部符合",
    "S": "至少符合其一",
    "X": "均不得具有",
    "R": "援引所附情形时须符合",
    "M": "不影响是否容错，影响处理轻重",
}
STATUSES = ("met", "not_met", "unknown")
STATUS_LABELS = {"met": "符合", "not_met": "不符合", "unknown": "待查明"}
OUTCOMES = ("exempt", "lighter", "mitigated", "refused")
OUTCOME_LABELS = {"exempt": "免责", "lighter": "从轻", "mitigated": "减轻", "refused": "不予容错"}
VERDICTS = ("tolerable", "not_tolerable", "undetermined")
VERDICT_LABELS = {"tolerable": "予以容错", "not_tolerable": "不予容错", "undetermined": "尚不能认定"}
DERIVATION_SOURCES = {
    "major_loss": "记录的损失金额与本规则集的重大损失数额参数比较",
    "repeat_same_matter": "本人此前同类事由的案件记录",
    "repeat_after_accountability": "本人此前同类事由的案件中记录的问责或组织提醒及其日期",
    "disposition_third_fourth": "本案记录的“四种形态”处理方式",
}
DISPOSITIONS = {"first": "第一种形态", "second": "第二种形态", "third": "第三种形态", "fourth": "第四种形态"}
# What an earlier case of the same matter ended in for the cadre (for "在被问责或组织提醒后").
MEASURES = {"accountability": "问责", "reminder": "组织提醒", "none": "未问责、未组织提醒"}
ANSWER_VALUES = ("yes", "no")
ANSWER_LABELS = {"yes": "是", "no": "否"}
# How a compound clause's parts combine: all of them must be met (the default), or any one suffices.
COMBINES = ("all", "any")
COMBINE_LABELS = {"all": "须全部符合", "any": "符合任一项即可"}


@dataclass(frozen=True, slots=True)
class Correction:
    """A character error in the source, fixed in ``text``; ``original`` is what the source prints."""

    original: str
    corrected: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Derivation:
    """How a clause is computed from data the system holds; ``None`` means the fact settles nothing."""

    source: str
    if_true: str | None
    if_false: str | None


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    kind: str
    title: str
    text: str
    citation: str
    establish: str
    ruleset: str
    parent: str | None = None
    applies_to: str | None = None
    parts: tuple[str, ...] = ()
    # For a compound clause: "all" (every part met) or "any" (one part met suffices).
    combine: str = "all"
    derive: Derivation | None = None
    answers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    verbatim: bool = True
    corrections: tuple[Correction, ...] = ()
    note: str = ""
    example: bool = False
    source: str = ""
    # Non-empty when the document states this kind of clause as a default (一般 / 原则上), not an
    # absolute: the words that say so. A verdict resting only on such clauses says it does.
    default_rule: str = ""
    line: int = 0

    @property
    def short_id(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def answer_map(self) -> dict[str, dict[str, str]]:
        return {question: dict(values) for question, values in self.answers}

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "citation": self.citation,
            "establish": self.establish,
            "ruleset": self.ruleset,
            "parent": self.parent,
            "applies_to": self.applies_to,
            "parts": list(self.parts),
            "derive": (
                None
                if self.derive is None
                else {
                    "from": self.derive.source,
                    "if_true": self.derive.if_true,
                    "if_false": self.derive.if_false,
                }
            ),
            "answers": self.answer_map(),
            "verbatim": self.verbatim,
            "corrections": [
                {"original": c.original, "corrected": c.corrected, "note": c.note} for c in self.corrections
            ],
            "note": self.note,
            "example": self.example,
            "source": self.source,
        }
        if self.default_rule:  # written only when set, so other clauses keep their snapshots' hash
            data["default_rule"] = self.default_rule
        if self.combine != "all":  # likewise: "all" is the default and leaves existing hashes alone
            data["combine"] = self.combine
        return data


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float
    unit: str
    note: str


@dataclass(frozen=True, slots=True)
class Question:
    """A common question asked the same way of every rule set (for side-by-side comparison)."""

    id: str
    text: str
    note: str = ""


@dataclass(eq=False)
class RuleSetVersion:
    id: str
    version: str
    title: str
    issuer: str
    doc_number: str | None
    jurisdiction: str
    effective_from: dt.date
    effective_to: dt.date | None
    clauses: tuple[Clause, ...]
    effective_from_approximate: bool = False
    supersedes: str | None = None
    extends: tuple[str, str] | None = None
    source: str = ""
    outcomes: tuple[str, ...] = ("exempt", "lighter", "mitigated")
    outcomes_citation: str = ""
    parameters: dict[str, Parameter] = field(default_factory=dict)
    notes: str = ""
    example: bool = False
    # Whether this version applies to conduct before the first version took effect, and where it says so.
    governs_earlier_conduct: bool = False
    earlier_conduct_basis: str = ""
    path: str = ""
    content_hash: str = ""
    _by_id: dict[str, Clause] = field(default_factory=dict, repr=False)
    # Filled by the engine on first use: the clause structure compiled to index arrays.
    compiled: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.clauses}
        if not self.content_hash:
            self.content_hash = content_hash_of(self.snapshot())

    def __repr__(self) -> str:
        return f"<RuleSetVersion {self.id}@{self.version}>"

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    def clause(self, clause_id: str) -> Clause:
        return self._by_id[clause_id]

    def has_clause(self, clause_id: str) -> bool:
        return clause_id in self._by_id

    def top_level(self) -> list[Clause]:
        return [c for c in self.clauses if c.parent is None]

    def of_kind(self, kind: str) -> list[Clause]:
        return [c for c in self.clauses if c.kind == kind and c.parent is None]

    def prerequisites(self) -> list[Clause]:
        return self.of_kind("P")

    def situations(self) -> list[Clause]:
        return self.of_kind("S")

    def exclusions(self) -> list[Clause]:
        return self.of_kind("X")

    def requirements(self) -> list[Clause]:
        return self.of_kind("R")

    def requirements_for(self, situation_id: str) -> list[Clause]:
        return [c for c in self.clauses if c.kind == "R" and c.applies_to == situation_id]

    def parts_of(self, clause_id: str) -> list[Clause]:
        return [self._by_id[p] for p in self._by_id[clause_id].parts]

    def in_force_on(self, on_date: dt.date) -> bool:
        return self.effective_from <= on_date and (self.effective_to is None or on_date <= self.effective_to)

    def snapshot(self) -> dict[str, Any]:
        """Everything the evaluation depends on, as plain data; its hash pins this version."""
        data: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "jurisdiction": self.jurisdiction,
            "effective_from": self.effective_from.isoformat(),
            "effective_from_approximate": self.effective_from_approximate,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "supersedes": self.supersedes,
            "extends": list(self.extends) if self.extends else None,
            "source": self.source,
            "outcomes": list(self.outcomes),
            "outcomes_citation": self.outcomes_citation,
            "parameters": {
                p.name: {"value": p.value, "unit": p.unit, "note": p.note} for p in self.parameters.values()
            },
            "notes": self.notes,
            "example": self.example,
            "clauses": [c.as_dict() for c in self.clauses],
        }
        # Keys added later are written only when set, so versions without them keep their old hash.
        if self.governs_earlier_conduct:
            data["governs_earlier_conduct"] = True
            data["earlier_conduct_basis"] = self.earlier_conduct_basis
        return data


def content_hash_of(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class RuleSetFamily:
    """All versions of one rule set, ordered by ``effective_from``."""

    id: str
    versions: list[RuleSetVersion]

    @property
    def latest(self) -> RuleSetVersion:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.latest.title

    def version(self, label: str) -> RuleSetVersion | None:
        for v in self.versions:
            if v.version == label:
                return v
        return None

    def in_force(self, on_date: dt.date) -> RuleSetVersion | None:
        for v in self.versions:
            if v.in_force_on(on_date):
                return v
        return None
