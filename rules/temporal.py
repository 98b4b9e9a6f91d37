"""Which version applies, and re-running or comparing evaluations: the engine's entry points.

Owns ``evaluate`` (the version in force on the conduct date, or a later, more favourable one in
force on the decision date: 从旧兼从轻), ``pinned_version`` and ``reproduce`` (re-running a stored
evaluation under the exact version it used) and ``compare`` (the same facts under several rule sets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules.compiled import FAVOUR_RANK
from rules.dates import cn_date, to_date
from rules.definitions import VERDICT_LABELS, RuleSetVersion
from rules.errors import FindingError, RuleError, UnknownVersionError
from rules.evaluation import evaluate_version
from rules.presentation import Evaluation
from rules.registry import Registry, registry
from rules.snapshot import version_from_snapshot

EARLIER_CONDUCT = "施行前的行为"


def evaluate(
    ruleset_id: str,
    findings: Mapping[str, Any],
    conduct_date: dt.date | str,
    *,
    facts: Mapping[str, Any] | None = None,
    decision_date: dt.date | str | None = None,
    answers: Mapping[str, str] | None = None,
    reg: Registry | None = None,
) -> Evaluation:
    """Evaluate under the version in force on the conduct date (从旧), or a later, more favourable
    version in force on the decision date (兼从轻), in which case both evaluations are returned.

    Conduct before the first version is evaluated under the version in force on the decision date
    when that version declares it governs earlier conduct; ``version_choice`` says so."""
    reg = reg or registry()
    conduct = to_date(conduct_date, "行为日期")
    decision = to_date(decision_date, "决定日期") if decision_date is not None else None
    if decision is not None and decision < conduct:
        raise RuleError(f"决定日期 {decision} 早于行为日期 {conduct}")
    old, earlier = reg.version_applying(ruleset_id, conduct, decision)
    if earlier:
        return _earlier_conduct(reg, old, findings, facts, conduct, decision, answers)
    if decision is None:
        return evaluate_version(old, findings, facts, conduct_date=conduct, answers=answers)
    new = reg.version_for(ruleset_id, decision)
    if new is old:
        return evaluate_version(old, findings, facts, conduct_date=conduct, answers=answers)
    if isinstance(findings, Mapping):
        for clause_id in findings:
            if not old.has_clause(clause_id) and not new.has_clause(clause_id):
                raise FindingError(str(clause_id), f"规则集 {ruleset_id} 没有条款 {clause_id}")
    ev_old = evaluate_version(old, findings, facts, conduct_date=conduct, answers=answers, strict=False)
    ev_new = evaluate_version(new, findings, facts, conduct_date=conduct, answers=answers, strict=False)
    choice = {
        "principle": "从旧兼从轻",
        "conduct_version": old.version,
        "decision_version": new.version,
        "conduct_verdict": ev_old.verdict,
        "decision_verdict": ev_new.verdict,
    }
    if FAVOUR_RANK[ev_new.verdict] > FAVOUR_RANK[ev_old.verdict]:
        choice["applied"] = new.version
        choice["explanation"] = (
            f"行为时（{cn_date(conduct)}）施行的版本 {old.version} 结论为“{VERDICT_LABELS[ev_old.verdict]}”；决定时（{cn_date(decision)}）"
            f"施行的版本 {new.version} 结论为“{VERDICT_LABELS[ev_new.verdict]}”，对干部更有利，依从旧兼从轻原则适用新版本。"
            "两种评估均列出。"
        )
        ev_new.version_choice = choice
        ev_new.alternative = ev_old
        return ev_new
    choice["applied"] = old.version
    choice["explanation"] = (
        f"适用行为时（{cn_date(conduct)}）施行的版本 {old.version}；决定时施行的版本 {new.version} 结论为"
        f"“{VERDICT_LABELS[ev_new.verdict]}”，并不更有利。"
    )
    ev_old.version_choice = choice
    return ev_old


def _earlier_conduct(
    reg: Registry,
    version: RuleSetVersion,
    findings: Mapping[str, Any],
    facts: Mapping[str, Any] | None,
    conduct: dt.date,
    decision: dt.date | None,
    answers: Mapping[str, str] | None,
) -> Evaluation:
    """Conduct before the first version, under the version in force at the decision, saying why."""
    first = reg.family(version.id).versions[0]
    ev = evaluate_version(version, findings, facts, conduct_date=conduct, answers=answers)
    ev.version_choice = {
        "principle": EARLIER_CONDUCT,
        "conduct_version": None,
        "decision_version": version.version,
        "applied": version.version,
        "basis": version.earlier_conduct_basis,
        "explanation": (
            f"行为日期 {cn_date(conduct)} 早于《{version.title}》第一个收录版本的施行日期 {cn_date(first.effective_from)}，"
            f"行为时无收录的版本；决定时（{cn_date(decision) if decision else '未定'}）施行的版本 {version.version} 适用于施行前的行为"
            f"（{version.earlier_conduct_basis}），故依该版本评估。"
        ),
    }
    return ev


def pinned_version(
    ruleset_id: str,
    version: str,
    content_hash: str,
    *,
    snapshot: Mapping[str, Any] | None = None,
    reg: Registry | None = None,
) -> RuleSetVersion:
    """The exact version a stored evaluation used: from its snapshot if given, else from the files
    (refused with PinMismatchError if the file changed since)."""
    if snapshot is not None:
        rebuilt = version_from_snapshot(dict(snapshot), expected_hash=content_hash)
        if rebuilt.id != ruleset_id or rebuilt.version != version:
            raise UnknownVersionError(ruleset_id, version)
        return rebuilt
    return (reg or registry()).pinned(ruleset_id, version, content_hash)


def reproduce(
    stored: Mapping[str, Any],
    findings: Mapping[str, Any],
    *,
    facts: Mapping[str, Any] | None = None,
    answers: Mapping[str, str] | None = None,
    snapshot: Mapping[str, Any] | None = None,
    reg: Registry | None = None,
) -> tuple[Evaluation, bool]:
    """Re-run a stored evaluation (a ``to_dict()`` result) under its pinned version; the flag says
    whether verdict, decisive clauses and every clause status came out the same."""
    version = pinned_version(
        stored["ruleset"], stored["version"], stored["content_hash"], snapshot=snapshot, reg=reg
    )
    again = evaluate_version(
        version, findings, facts, conduct_date=stored.get("conduct_date"), answers=answers
    )
    same = (
        again.verdict == stored["verdict"]
        and list(again.decisive) == list(stored["decisive"])
        and [(t["clause"], t["status"]) for t in again.trace()]
        == [(t["clause"], t["status"]) for t in stored["trace"]]
    )
    return again, same


def compare(
    ruleset_ids: list[str],
    findings: Mapping[str, Any],
    conduct_date: dt.date | str,
    *,
    facts: Mapping[str, Any] | None = None,
    answers: Mapping[str, str] | None = None,
    decision_date: dt.date | str | None = None,
    reg: Registry | None = None,
) -> list[Evaluation]:
    """The same facts under several rule sets, side by side. Findings are routed to the rule set
    their clause id belongs to; common-question answers apply to every rule set."""
    reg = reg or registry()
    known = {rid: reg.family(rid) for rid in ruleset_ids}
    routed: dict[str, dict[str, Any]] = {rid: {} for rid in ruleset_ids}
    for clause_id, value in findings.items():
        targets = [rid for rid, fam in known.items() if any(v.has_clause(clause_id) for v in fam.versions)]
        if not targets:
            raise FindingError(str(clause_id), f"所选规则集中没有条款 {clause_id}")
        for rid in targets:
            routed[rid][clause_id] = value
    return [
        evaluate(
            rid, routed[rid], conduct_date, facts=facts, decision_date=decision_date, answers=answers, reg=reg
        )
        for rid in ruleset_ids
    ]
