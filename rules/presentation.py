"""Presentation of one evaluation: the verdict, what is missing, and the clause-by-clause trace.

Owns ``Evaluation``, the result object ``rules.evaluation`` builds. It keeps the raw codes and
builds words, citations and the JSON-able ``to_dict()`` lazily, so bulk re-evaluation that only
needs verdicts does not pay for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules.compiled import ENGINE_VERSION, NAMES, NOT_TOLERABLE, TOLERABLE, compiled
from rules.definitions import (
    ANSWER_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    RuleSetVersion,
)


class Evaluation:
    """The result of evaluating one set of findings under one rule-set version."""

    def __init__(
        self,
        version: RuleSetVersion,
        conduct_date: dt.date | None,
        statuses: list[int],
        attested: dict[int, tuple[int, str, str]],
        derived: dict[int, tuple[int, str]],
        answered: dict[int, tuple[int, list[tuple[str, str]]]],
        notes: dict[int, str],
        verdict: str,
        decisive: list[str],
        missing: list[tuple[int, str, str]],
        mitigation: list[str],
        facts: dict[str, Any] | None,
        ignored: list[str],
    ) -> None:
        self.version = version
        self.conduct_date = conduct_date
        self.statuses = statuses
        self._attested = attested
        self._derived = derived
        self._answered = answered
        self._notes = notes
        self.verdict = verdict
        self.decisive = decisive
        self._missing = missing
        self.mitigation = mitigation
        self.facts = facts
        self.ignored_findings = ignored
        self.alternative: Evaluation | None = None
        self.version_choice: dict[str, Any] | None = None

    @property
    def ruleset_id(self) -> str:
        """The id of the rule set evaluated under."""
        return self.version.id

    @property
    def outcomes(self) -> list[str]:
        """The outcomes open to the decision: the version's when tolerable, ``refused`` when not."""
        if self.verdict == TOLERABLE:
            return list(self.version.outcomes)
        if self.verdict == NOT_TOLERABLE:
            return ["refused"]
        return []

    @property
    def default_clauses(self) -> list[str]:
        """The decisive clauses the document states only as defaults (一般 / 原则上)."""
        if self.verdict != NOT_TOLERABLE:
            return []
        comp = compiled(self.version)
        return [c for c in self.decisive if comp.default[comp.index[c]]]

    @property
    def rests_on_default(self) -> bool:
        """True when the refusal rests only on default rules: the decider may depart, giving reasons."""
        defaults = self.default_clauses
        return bool(defaults) and len(defaults) == len(self.decisive)

    def default_rule(self) -> dict[str, Any] | None:
        """The default rules the refusal rests on, with the document's words, or ``None``."""
        clauses = self.default_clauses
        if not clauses:
            return None
        basis = list(dict.fromkeys(self.version.clause(c).default_rule for c in clauses))
        return {"clauses": clauses, "basis": basis, "only": self.rests_on_default}

    def status(self, clause_id: str) -> str:
        """The status (met / not_met / unknown) a clause came out with."""
        return NAMES[self.statuses[compiled(self.version).index[clause_id]]]

    @property
    def missing(self) -> list[dict[str, Any]]:
        """The findings still needed, each with the verdict if it were met and if it were not."""
        version = self.version
        out = []
        for i, if_met, if_not_met in self._missing:
            clause = version.clauses[i]
            out.append(
                {
                    "clause": clause.id,
                    "kind": clause.kind,
                    "title": clause.title,
                    "parent": clause.parent,
                    "if_met": if_met,
                    "if_not_met": if_not_met,
                    "effect": f"若认定符合：{VERDICT_LABELS[if_met]}；若认定不符合：{VERDICT_LABELS[if_not_met]}",
                }
            )
        return out

    def _source(self, i: int) -> dict[str, Any]:
        """Where clause ``i``'s status came from (finding, derivation, answers, parts), in data and words."""
        clause = self.version.clauses[i]
        attested = self._attested.get(i)
        derived = self._derived.get(i)
        answered = self._answered.get(i)
        src: dict[str, Any] = {
            "type": "none",
            "label": "未记录认定",
            "attested": None,
            "derived": None,
            "answers": None,
        }
        parts: list[str] = []
        if attested is not None:
            code, reasoning, by = attested
            src["attested"] = {"status": NAMES[code], "by": by or None, "reasoning": reasoning or None}
            parts.append(
                f"调查认定{('（' + by + '）') if by else ''}：{STATUS_LABELS[NAMES[code]]}"
                f"{('，理由：' + reasoning) if reasoning else ''}"
            )
        if derived is not None:
            code, basis = derived
            src["derived"] = {
                "status": NAMES[code],
                "from": clause.derive.source if clause.derive else None,
                "basis": basis,
            }
            parts.append(f"系统派生：{STATUS_LABELS[NAMES[code]]}（{basis}）")
        if answered is not None:
            code, given = answered
            src["answers"] = [{"question": q, "answer": a} for q, a in given]
            parts.append("共同问题：" + "、".join(f"{q}={ANSWER_LABELS.get(a, a)}" for q, a in given))
        src["type"] = _source_type(attested, derived, answered)
        if clause.parts and attested is None:
            src["type"] = "parts"
            parts.append(
                "由各分项合成：满足下列任一项即符合，各项均不符合方为不符合"
                if clause.combine == "any"
                else "由各分项合成：须全部符合，任一项不符合即不符合"
            )
        if parts:
            src["label"] = "；".join(parts)
        return src

    def trace(self) -> list[dict[str, Any]]:
        """Every clause in source order with its status, source, citation and verbatim text."""
        items = []
        for i, clause in enumerate(self.version.clauses):
            status = NAMES[self.statuses[i]]
            note = clause.note
            if i in self._notes:
                note = f"{note}；{self._notes[i]}" if note else self._notes[i]
            items.append(
                {
                    "clause": clause.id,
                    "kind": clause.kind,
                    "kind_label": KIND_LABELS[clause.kind],
                    "parent": clause.parent,
                    "applies_to": clause.applies_to,
                    "title": clause.title,
                    "status": status,
                    "status_label": STATUS_LABELS[status],
                    "source": self._source(i),
                    "citation": clause.citation
                    or (self.version.clause(clause.parent).citation if clause.parent else ""),
                    "text": clause.text,
                    "verbatim": clause.verbatim,
                    # Shown with the clause wherever it appears: an illustration, not a document's rule.
                    "example": clause.example,
                    "default_rule": clause.default_rule or None,
                    "corrections": [
                        {"original": c.original, "corrected": c.corrected, "note": c.note}
                        for c in clause.corrections
                    ],
                    "note": note,
                }
            )
        return items

    def _labels(self, clause_ids: list[str]) -> str:
        return "、".join(clause_label(self.version, c) for c in clause_ids)

    def summary(self) -> str:
        """One Chinese sentence: the verdict, under which document, on which clauses (by title and article)."""
        v = self.version
        head = f"依据《{v.title.strip('《》')}》，{VERDICT_LABELS[self.verdict]}"
        if self.version_choice and self.version_choice.get("conduct_version") is None:
            head = f"行为早于本规则集施行，依其适用于施行前行为的规定（{v.earlier_conduct_basis}），{head}"
        if self.verdict == TOLERABLE:
            return f"{head}：所依据的容错情形：{self._labels(self.decisive)}；可作出{'、'.join(OUTCOME_LABELS[o] for o in self.outcomes)}的处理。"
        if self.verdict == NOT_TOLERABLE:
            text = f"{head}：决定性条款：{self._labels(self.decisive)}。"
            if self.rests_on_default:
                words = "；".join(self.default_rule()["basis"])  # type: ignore[index]
                text += f"上述条款为原则性规定（{words}）。"
            return text
        return f"{head}：尚缺 {len(self._missing)} 项可能改变结论的认定。"

    def to_dict(self) -> dict[str, Any]:
        """The whole evaluation as JSON-able data; what a decision stores and ``reproduce`` reads."""
        v = self.version
        return {
            "ruleset": v.id,
            "version": v.version,
            "title": v.title,
            "doc_number": v.doc_number,
            "content_hash": v.content_hash,
            "engine_version": ENGINE_VERSION,
            "conduct_date": self.conduct_date.isoformat() if self.conduct_date else None,
            "verdict": self.verdict,
            "verdict_label": VERDICT_LABELS[self.verdict],
            "outcomes": self.outcomes,
            "outcome_labels": [OUTCOME_LABELS[o] for o in self.outcomes],
            "decisive": list(self.decisive),
            "missing": self.missing,
            "mitigation": list(self.mitigation),
            "rests_on_default": self.rests_on_default,
            "default_rule": self.default_rule(),
            "summary": self.summary(),
            "trace": self.trace(),
            "facts": self.facts,
            "parameters": {
                p.name: {"value": p.value, "unit": p.unit, "note": p.note} for p in v.parameters.values()
            },
            "ignored_findings": list(self.ignored_findings),
            "version_choice": self.version_choice,
            "alternative": self.alternative.to_dict() if self.alternative is not None else None,
        }



def _source_type(attested: Any, derived: Any, answered: Any) -> str:
    """The kind of source the trace shows; a derivation that settled nothing ranks below answers."""
    if attested is not None and derived is not None and derived[0] and attested[0] != derived[0]:
        return "attested_over_derived"
    if attested is not None and derived is not None:
        return "attested_and_derived"
    if attested is not None:
        return "attested"
    if derived is not None and derived[0]:
        return "derived"
    if answered is not None:
        return "answers"
    if derived is not None:
        return "derived"
    return "none"


def clause_label(version: RuleSetVersion, clause_id: str) -> str:
    """A clause as people name it: its title and where the document says it, never its id."""
    if not version.has_clause(clause_id):
        return clause_id
    clause = version.clause(clause_id)
    citation = clause.citation or (version.clause(clause.parent).citation if clause.parent else "")
    return f"“{clause.title}”（{citation}）" if citation else f"“{clause.title}”"


# What a clause's status means for the cadre, by kind: (meaning, words). An exclusion that is not present
# is favourable; one that is present causes refusal. Colour follows the meaning, never met / not met.
_MEANINGS: dict[tuple[str, str], tuple[str, str]] = {
    ("P", "met"): ("favourable", "符合，有利"),
    ("P", "not_met"): ("unfavourable", "不符合，导致不予容错"),
    ("S", "met"): ("favourable", "属于该情形，有利"),
    ("S", "not_met"): ("neutral", "不属于该情形"),
    ("R", "met"): ("favourable", "已满足，有利"),
    ("R", "not_met"): ("unfavourable", "未满足，所附情形不能援引"),
    ("X", "met"): ("unfavourable", "存在该情形，导致不予容错"),
    ("X", "not_met"): ("favourable", "不存在该情形，有利"),
    ("M", "met"): ("favourable", "具有该情形，可从轻减轻"),
    ("M", "not_met"): ("neutral", "不具有该情形"),
}


def meaning(kind: str, status: str | None) -> tuple[str, str]:
    """``(meaning, words)`` of a status for the cadre: favourable, unfavourable, neutral or open (待查明)."""
    return _MEANINGS.get((kind, status or ""), ("open", "待查明"))


def for_people(evaluation: dict[str, Any]) -> dict[str, Any]:
    """An evaluation's dict (fresh or pinned on a record) with what pages show people instead of ids:
    each trace item's ``label`` and ``meaning``, and the decisive and mitigation clauses as items."""
    out = dict(evaluation)
    trace = []
    for item in evaluation.get("trace") or []:
        row = dict(item)
        citation = row.get("citation") or ""
        row["label"] = f"“{row.get('title', '')}”（{citation}）" if citation else f"“{row.get('title', '')}”"
        row["meaning"], row["meaning_label"] = meaning(row.get("kind", ""), row.get("status"))
        trace.append(row)
    out["trace"] = trace
    by_id = {t["clause"]: t for t in trace}
    out["decisive_items"] = [by_id[c] for c in evaluation.get("decisive") or [] if c in by_id]
    out["mitigation_items"] = [by_id[c] for c in evaluation.get("mitigation") or [] if c in by_id]
    out["missing"] = [{**m, "label": by_id[m["clause"]]["label"] if m.get("clause") in by_id else m.get("title", "")}
                      for m in evaluation.get("missing") or []]
    return out
