"""The pure evaluation: findings, answers and facts in, statuses and a verdict out.

Three-valued (met / not_met / unknown). A situation holds when it is met and every requirement
attached to it is met. not_tolerable: an exclusion met, a prerequisite not met, or no situation can
hold any more. tolerable: all prerequisites met, a situation holds, no exclusion met. Otherwise
undetermined, never a guess. No database, no Django: callers hand in plain values.

Owns ``evaluate_version`` and its steps; the result object and its words are ``rules.presentation``'s,
the choice of version by date is ``rules.temporal``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules.compiled import (
    CODES,
    MET,
    NAMES,
    NOT_MET,
    NOT_TOLERABLE,
    TOLERABLE,
    UNDETERMINED,
    UNKNOWN,
    Compiled,
    compiled,
)
from rules.dates import to_date
from rules.definitions import STATUS_LABELS, RuleSetVersion
from rules.errors import FindingError
from rules.facts import derive, parse_facts
from rules.presentation import Evaluation

# (x_met, x_unknown, p_failed, p_unknown, s_holding, s_possible): the verdict depends only on these.
Counts = tuple[int, int, int, int, int, int]
Finding = tuple[int, str, str]


def evaluate_version(
    version: RuleSetVersion,
    findings: Mapping[str, Any],
    facts: Mapping[str, Any] | None = None,
    *,
    conduct_date: dt.date | str | None = None,
    answers: Mapping[str, str] | None = None,
    strict: bool = True,
) -> Evaluation:
    """Evaluate under one given (e.g. pinned) version; ``strict=False`` ignores clause ids it lacks."""
    comp = compiled(version)
    conduct = to_date(conduct_date, "行为日期") if conduct_date is not None else None
    statuses, attested, ignored = _read_findings(comp, version, findings, strict)
    answered, notes = _apply_answers(comp, answers, statuses, attested) if answers else ({}, {})
    parsed_facts = parse_facts(facts) if facts is not None else None
    derived = _apply_derivations(comp, version, parsed_facts, conduct, statuses, attested, answered, notes)
    _combine_parts(comp, statuses, attested)
    counts, possible, holds = _tally(comp, statuses)
    verdict = _verdict(*counts)
    decisive = _decisive(comp, statuses, verdict, counts, holds)
    missing = _missing(comp, statuses, attested, counts, possible, holds) if verdict == UNDETERMINED else []
    mitigation = [comp.ids[i] for i in comp.m if statuses[i] == MET]
    return Evaluation(
        version,
        conduct,
        statuses,
        attested,
        derived,
        answered,
        notes,
        verdict,
        decisive,
        missing,
        mitigation,
        parsed_facts,
        ignored,
    )


def _read_findings(
    comp: Compiled, version: RuleSetVersion, findings: Mapping[str, Any], strict: bool
) -> tuple[list[int], dict[int, Finding], list[str]]:
    """Check the investigator's findings and set the statuses they attest."""
    statuses = [UNKNOWN] * len(comp.ids)
    attested: dict[int, Finding] = {}
    ignored: list[str] = []
    if not isinstance(findings, Mapping):
        raise FindingError("findings", "findings 应为对象：条款编号 → 认定")
    index = comp.index
    for clause_id, value in findings.items():
        i = index.get(clause_id)
        if i is None:
            if strict:
                raise FindingError(
                    str(clause_id), f"规则集 {version.id}@{version.version} 没有条款 {clause_id}"
                )
            ignored.append(str(clause_id))
            continue
        # Fast path for the plain status string, by far the most common finding.
        code = CODES.get(value) if type(value) is str else None
        finding = (code, "", "") if code is not None else _parse_finding(clause_id, value)
        attested[i] = finding
        statuses[i] = finding[0]
    for parent, parts in comp.parts.items():
        if parent in attested and any(p in attested for p in parts):
            cid = comp.ids[parent]
            raise FindingError(cid, f"复合条款 {cid} 已逐项认定，不能再整体认定")
    return statuses, attested, ignored


def _parse_finding(clause_id: str, value: Any) -> Finding:
    """One finding as (code, reasoning, by); a bad status or shape is a FindingError."""
    if isinstance(value, str):
        code = CODES.get(value)
        if code is None:
            raise FindingError(
                clause_id, f"条款 {clause_id} 的认定状态无效：{value!r}（应为 met / not_met / unknown）"
            )
        return code, "", ""
    if isinstance(value, Mapping):
        status = value.get("status")
        code = CODES.get(status) if isinstance(status, str) else None
        if code is None:
            raise FindingError(
                clause_id, f"条款 {clause_id} 的认定状态无效：{status!r}（应为 met / not_met / unknown）"
            )
        reasoning = value.get("reasoning") or ""
        by = value.get("by") or ""
        if not isinstance(reasoning, str) or not isinstance(by, str):
            raise FindingError(clause_id, f"条款 {clause_id} 的认定理由和认定人应为文本")
        return code, reasoning.strip(), by.strip()
    raise FindingError(clause_id, f"条款 {clause_id} 的认定应为状态文本或 {{status, reasoning, by}}")


def _apply_answers(
    comp: Compiled, answers: Mapping[str, str], statuses: list[int], attested: dict[int, Finding]
) -> tuple[dict[int, tuple[int, list[tuple[str, str]]]], dict[int, str]]:
    """Set the statuses the common-question answers settle, where no finding was attested."""
    answered: dict[int, tuple[int, list[tuple[str, str]]]] = {}
    notes: dict[int, str] = {}
    for question, answer in answers.items():
        if answer not in ("yes", "no", "unknown"):
            raise FindingError(
                str(question), f"共同问题 {question} 的回答无效：{answer!r}（应为 yes / no / unknown）"
            )
        if answer == "unknown":
            continue
        for i, mapping in comp.answers.get(question, ()):
            code = mapping.get(answer)
            if code is None:
                continue
            previous = answered.get(i)
            if previous is None:
                answered[i] = (code, [(question, answer)])
            else:
                previous[1].append((question, answer))
                # Two answers that settle one clause both ways settle nothing.
                if previous[0] != code:
                    answered[i] = (UNKNOWN, previous[1])
                    notes[i] = "共同问题的回答相互矛盾，未据以认定"
    for i, (code, _given) in answered.items():
        if i not in attested:
            statuses[i] = code
    return answered, notes


def _apply_derivations(
    comp: Compiled,
    version: RuleSetVersion,
    facts: dict[str, Any] | None,
    conduct: dt.date | None,
    statuses: list[int],
    attested: dict[int, Finding],
    answered: dict[int, tuple[int, list[tuple[str, str]]]],
    notes: dict[int, str],
) -> dict[int, tuple[int, str]]:
    """Set the statuses the facts settle; an attested finding wins, but against the cadre needs a reason."""
    derived: dict[int, tuple[int, str]] = {}
    if facts is None:
        return derived
    unfavourable = comp.unfavourable
    for i, source, if_true, if_false in comp.derived:
        truth, basis = derive(version, source, facts, conduct)
        if truth is None:
            if basis:  # the record cannot say: the trace shows why the clause stays unknown
                derived[i] = (UNKNOWN, basis)
            continue
        outcome = if_true if truth else if_false
        d = CODES[outcome] if outcome else UNKNOWN
        derived[i] = (d, basis)
        if not d:
            if i not in attested and statuses[i] == UNKNOWN:
                notes[i] = "系统派生的事实不足以认定本条，须调查认定"
            continue
        finding = attested.get(i)
        if finding is None:
            if i in answered and answered[i][0] and answered[i][0] != d:
                notes[i] = "共同问题的回答与系统派生结论不一致，按派生结论；如需覆盖请逐条认定并写明理由"
            statuses[i] = d
            continue
        code, reasoning = finding[0], finding[1]
        if code == UNKNOWN:
            notes[i] = f"认定为“{STATUS_LABELS[NAMES[UNKNOWN]]}”，按系统派生结论"
            statuses[i] = d
        elif code != d and d == unfavourable[i] and not reasoning:
            cid = comp.ids[i]
            raise FindingError(
                cid,
                f"条款 {cid} 由系统派生为“{STATUS_LABELS[NAMES[d]]}”，认定为“{STATUS_LABELS[NAMES[code]]}”须写明理由",
            )
    return derived


def _combine_parts(comp: Compiled, statuses: list[int], attested: dict[int, Finding]) -> None:
    """A compound clause not attested whole takes the three-valued AND (or, for ``any``, OR) of its parts."""
    for parent, parts in comp.parts.items():
        if parent not in attested:
            statuses[parent] = _combine(parent in comp.any, [statuses[p] for p in parts])


def _combine(any_of: bool, codes: list[int]) -> int:
    return _or(codes) if any_of else _and(codes)


def _and(codes: list[int]) -> int:
    if NOT_MET in codes:
        return NOT_MET
    if all(c == MET for c in codes):
        return MET
    return UNKNOWN


def _or(codes: list[int]) -> int:
    if MET in codes:
        return MET
    if all(c == NOT_MET for c in codes):
        return NOT_MET
    return UNKNOWN


def _tally(comp: Compiled, statuses: list[int]) -> tuple[Counts, dict[int, bool], dict[int, bool]]:
    """Count the three-valued states once (what-ifs adjust these counts) and which situations can hold."""
    x_met = x_unk = p_fail = p_unk = s_hold = s_possible = 0
    for i in comp.x:
        st = statuses[i]
        if st == MET:
            x_met += 1
        elif st == UNKNOWN:
            x_unk += 1
    for i in comp.p:
        st = statuses[i]
        if st == NOT_MET:
            p_fail += 1
        elif st == UNKNOWN:
            p_unk += 1
    possible: dict[int, bool] = {}
    holds: dict[int, bool] = {}
    reqs = comp.reqs
    for i in comp.s:
        st = statuses[i]
        rs = reqs[i]
        if rs:
            ok = st != NOT_MET and all(statuses[r] != NOT_MET for r in rs)
            hold = ok and st == MET and all(statuses[r] == MET for r in rs)
        else:
            ok = st != NOT_MET
            hold = st == MET
        possible[i] = ok
        holds[i] = hold
        s_possible += ok
        s_hold += hold
    return (x_met, x_unk, p_fail, p_unk, s_hold, s_possible), possible, holds


def _verdict(x_met: int, x_unk: int, p_fail: int, p_unk: int, s_hold: int, s_possible: int) -> str:
    """The verdict from the counts alone."""
    if x_met or p_fail or not s_possible:
        return NOT_TOLERABLE
    if not x_unk and not p_unk and s_hold:
        return TOLERABLE
    return UNDETERMINED


def _decisive(
    comp: Compiled, statuses: list[int], verdict: str, counts: Counts, holds: dict[int, bool]
) -> list[str]:
    """The clauses the verdict rests on: the holding situations, or what refused tolerance."""
    ids = comp.ids
    decisive: list[str] = []
    if verdict == TOLERABLE:
        return [ids[i] for i in comp.s if holds[i]]
    if verdict != NOT_TOLERABLE:
        return decisive
    failed = [i for i in comp.x if statuses[i] == MET] + [i for i in comp.p if statuses[i] == NOT_MET]
    if not counts[5]:  # no situation can hold: every situation, and each failed requirement, decides
        for i in comp.s:
            failed.append(i)
            failed.extend(r for r in comp.reqs[i] if statuses[r] == NOT_MET)
    for i in sorted(failed):
        if statuses[i] == NOT_MET or comp.kinds[i] == "X":
            decisive.append(ids[i])
            decisive.extend(ids[p] for p in comp.parts.get(i, ()) if statuses[p] == statuses[i])
    return decisive


def _missing(
    comp: Compiled,
    statuses: list[int],
    attested: dict[int, Finding],
    counts: Counts,
    possible: dict[int, bool],
    holds: dict[int, bool],
) -> list[tuple[int, str, str]]:
    """The unknown clauses that belong to some smallest set of findings that would settle the verdict,
    each with the verdict if it alone were met and if it alone were not met.

    A verdict is settled (tolerable or not_tolerable) by one of: a prerequisite not met, an exclusion
    met, every still-possible situation ruled out, or all prerequisites met, all exclusions not met and
    one situation holding. Each costs one finding per plain clause; a compound clause costs one finding
    to settle the way its combination needs only one part ("all": not met; "any": met) and one per
    unknown part the other way. The cheapest of these fix the size of a smallest set.
    """

    # For each unknown clause: the findings that would make it met, and those that would make it not met,
    # as (how many are needed, the clauses any of them may be recorded on). A compound clause not attested
    # whole is settled through its unknown parts: "all" needs every part to be met and one to fail,
    # "any" needs one part to be met and every part to fail.
    def to_met(i: int) -> tuple[int, list[int]]:
        if i in comp.parts and i not in attested:
            us = [p for p in comp.parts[i] if statuses[p] == UNKNOWN]
            return (1 if i in comp.any else len(us)), us
        return 1, [i]

    def to_not_met(i: int) -> tuple[int, list[int]]:
        if i in comp.parts and i not in attested:
            us = [p for p in comp.parts[i] if statuses[p] == UNKNOWN]
            return (len(us) if i in comp.any else 1), us
        return 1, [i]

    s_hold = counts[4]
    options: list[tuple[int, list[int]]] = []
    unknown_p = [i for i in comp.p if statuses[i] == UNKNOWN]
    unknown_x = [i for i in comp.x if statuses[i] == UNKNOWN]
    for i in unknown_p:  # a prerequisite not met refuses
        options.append(to_not_met(i))
    for i in unknown_x:  # an exclusion met refuses
        options.append(to_met(i))
    # A situation that may still hold but does not yet: the findings it needs to hold (all of its unknown
    # clauses met), and the cheapest findings that would instead rule it out (one of them not met).
    open_s: dict[int, tuple[int, list[int]]] = {}
    rule_out: dict[int, tuple[int, list[int]]] = {}
    for i in comp.s:
        if not possible[i] or holds[i]:
            continue
        unknown = [c for c in (i, *comp.reqs[i]) if statuses[c] == UNKNOWN]
        needs = [to_met(c) for c in unknown]
        open_s[i] = (sum(n for n, _u in needs), [u for _n, us in needs for u in us])
        outs = [to_not_met(c) for c in unknown]
        fewest = min(n for n, _u in outs)
        rule_out[i] = (fewest, [u for n, us in outs if n == fewest for u in us])
    if not s_hold and open_s:  # rule out every situation that could still hold
        options.append(
            (sum(n for n, _u in rule_out.values()), [u for _n, us in rule_out.values() for u in us])
        )
    base_needs = [to_met(i) for i in unknown_p] + [to_not_met(i) for i in unknown_x]
    base = sum(n for n, _u in base_needs)
    base_units = [u for _n, us in base_needs for u in us]
    if s_hold:
        options.append((base, base_units))
    elif open_s:
        cheapest = min(n for n, _u in open_s.values())
        chosen = [u for n, us in open_s.values() if n == cheapest for u in us]
        options.append((base + cheapest, base_units + chosen))
    smallest = min(cost for cost, _u in options)
    wanted = {u for cost, us in options if cost == smallest for u in us}
    missing: list[tuple[int, str, str]] = []
    for i in comp.order:
        if i not in wanted:
            continue
        parent = comp.parent[i]
        top = i if parent < 0 else parent
        if parent >= 0:
            siblings = [statuses[p] for p in comp.parts[parent] if p != i]
            any_of = parent in comp.any
            top_if_met = _combine(any_of, [*siblings, MET])
            top_if_not = _combine(any_of, [*siblings, NOT_MET])
        else:
            top_if_met, top_if_not = MET, NOT_MET
        if_met = _what_if(comp, statuses, counts, possible, top, top_if_met)
        if_not = _what_if(comp, statuses, counts, possible, top, top_if_not)
        missing.append((i, if_met, if_not))
    return missing


def _what_if(
    comp: Compiled,
    statuses: list[int],
    counts: Counts,
    possible: dict[int, bool],
    top: int,
    new: int,
) -> str:
    """The verdict if top-level clause ``top`` (currently unknown) had status ``new``, all else equal."""
    x_met, x_unk, p_fail, p_unk, s_hold, s_possible = counts
    if new == UNKNOWN:
        return _verdict(*counts)
    kind = comp.kinds[top]
    if kind == "X":
        return NOT_TOLERABLE if new == MET else _verdict(x_met, x_unk - 1, p_fail, p_unk, s_hold, s_possible)
    if kind == "P":
        return (
            NOT_TOLERABLE if new == NOT_MET else _verdict(x_met, x_unk, p_fail, p_unk - 1, s_hold, s_possible)
        )
    if kind == "S":
        s, rs_ok = top, all(statuses[r] == MET for r in comp.reqs[top])
    elif kind == "R":
        s = comp.situation_of[top]
        rs_ok = statuses[s] == MET and all(statuses[r] == MET for r in comp.reqs[s] if r != top)
    else:
        return _verdict(*counts)
    if not possible[s]:
        return _verdict(*counts)
    if new == NOT_MET:
        return _verdict(x_met, x_unk, p_fail, p_unk, s_hold, s_possible - 1)
    return _verdict(x_met, x_unk, p_fail, p_unk, s_hold + (1 if rs_ok else 0), s_possible)
