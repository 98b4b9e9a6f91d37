"""The pure evaluation engine: findings and facts in, a verdict with a clause-by-clause trace out.

Three-valued (met / not_met / unknown). A situation holds when it is met and every requirement
attached to it is met. not_tolerable: an exclusion met, a prerequisite not met, or no situation can
hold any more. tolerable: all prerequisites met, a situation holds, no exclusion met. Otherwise
undetermined, never a guess. No database, no Django: callers hand in plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules.definitions import (
    ANSWER_LABELS,
    DERIVATION_SOURCES,
    DISPOSITIONS,
    KIND_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    RuleSetVersion,
)
from rules.errors import FactError, FindingError, RuleError, UnknownVersionError
from rules.loader import Registry, registry, to_date, version_from_snapshot

ENGINE_VERSION = "1.0.0"

UNKNOWN, MET, NOT_MET = 0, 1, 2
CODES = {"met": MET, "not_met": NOT_MET, "unknown": UNKNOWN}
NAMES = ("unknown", "met", "not_met")
TOLERABLE, NOT_TOLERABLE, UNDETERMINED = "tolerable", "not_tolerable", "undetermined"
FAVOUR_RANK = {NOT_TOLERABLE: 0, UNDETERMINED: 1, TOLERABLE: 2}


class _Compiled:
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
        "situation_of",
        "order",
        "questions",
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
        # The status that goes against the cadre: overriding a derived one of these needs a reason.
        self.unfavourable = [MET if k == "X" else NOT_MET for k in self.kinds]
        # Order in which `missing` is listed: prerequisites, exclusions, then situations with requirements.
        order: list[int] = []
        for i in self.p + self.x:
            order.extend(self.parts.get(i, [i]))
        for i in self.s:
            order.extend(self.parts.get(i, [i]))
            order.extend(self.reqs[i])
        self.order = order


def _compiled(version: RuleSetVersion) -> _Compiled:
    if version.compiled is None:
        version.compiled = _Compiled(version)
    return version.compiled


def _verdict(x_met: int, x_unk: int, p_fail: int, p_unk: int, s_hold: int, s_possible: int) -> str:
    if x_met or p_fail or not s_possible:
        return NOT_TOLERABLE
    if not x_unk and not p_unk and s_hold:
        return TOLERABLE
    return UNDETERMINED


def _and(codes: list[int]) -> int:
    if NOT_MET in codes:
        return NOT_MET
    if all(c == MET for c in codes):
        return MET
    return UNKNOWN


def _parse_facts(facts: Mapping[str, Any] | None, conduct_date: dt.date | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    if not isinstance(facts, Mapping):
        raise FactError("facts", "facts 应为对象")
    unknown = set(facts) - {"loss_amount", "disposition", "prior_same_matter"}
    if unknown:
        raise FactError(sorted(unknown)[0], f"未知的事实字段：{sorted(unknown)[0]}")
    loss = facts.get("loss_amount")
    if loss is not None and (isinstance(loss, bool) or not isinstance(loss, int | float) or loss < 0):
        raise FactError("loss_amount", f"损失金额应为不小于 0 的数字或 null，实为 {loss!r}")
    disposition = facts.get("disposition")
    if disposition is not None and disposition not in DISPOSITIONS:
        raise FactError(
            "disposition", f"处理方式应为 first/second/third/fourth 或 null，实为 {disposition!r}"
        )
    prior = facts.get("prior_same_matter")
    earlier: list[dict[str, str]] | None = None
    if prior is not None:
        if not isinstance(prior, list):
            raise FactError("prior_same_matter", "prior_same_matter 应为列表")
        earlier = []
        for item in prior:
            if not isinstance(item, Mapping) or "date" not in item:
                raise FactError("prior_same_matter", "prior_same_matter 每项应为 {case, date}")
            try:
                when = to_date(item["date"], "前案日期")
            except RuleError as exc:
                raise FactError("prior_same_matter", str(exc)) from None
            # Only an accountability or reminder before this conduct makes the conduct a repeat.
            if conduct_date is None or when < conduct_date:
                earlier.append({"case": str(item.get("case", "")), "date": when.isoformat()})
    return {"loss_amount": loss, "disposition": disposition, "prior_same_matter": earlier}


def _parse_finding(clause_id: str, value: Any) -> tuple[int, str, str]:
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
        return self.version.id

    @property
    def outcomes(self) -> list[str]:
        if self.verdict == TOLERABLE:
            return list(self.version.outcomes)
        if self.verdict == NOT_TOLERABLE:
            return ["refused"]
        return []

    def status(self, clause_id: str) -> str:
        return NAMES[self.statuses[_compiled(self.version).index[clause_id]]]

    @property
    def missing(self) -> list[dict[str, Any]]:
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
        clause = self.version.clauses[i]
        attested = self._attested.get(i)
        derived = self._derived.get(i)
        answered = self._answered.get(i)
        src: dict[str, Any] = {
            "type": "none",
            "label": "尚未认定",
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
            parts.append(f"系统派生：{STATUS_LABELS[NAMES[code]] if code else '无结论'}（{basis}）")
        if answered is not None:
            code, given = answered
            src["answers"] = [{"question": q, "answer": a} for q, a in given]
            parts.append("共同问题：" + "、".join(f"{q}={ANSWER_LABELS.get(a, a)}" for q, a in given))
        if attested is not None and derived is not None and derived[0] and attested[0] != derived[0]:
            src["type"] = "attested_over_derived"
        elif attested is not None and derived is not None:
            src["type"] = "attested_and_derived"
        elif attested is not None:
            src["type"] = "attested"
        elif derived is not None and derived[0]:
            src["type"] = "derived"
        elif answered is not None:
            src["type"] = "answers"
        elif derived is not None:
            src["type"] = "derived"
        if clause.parts and attested is None:
            src["type"] = "parts"
            parts.append("由各分项合成（各分项均符合方为符合）")
        if parts:
            src["label"] = "；".join(parts)
        return src

    def trace(self) -> list[dict[str, Any]]:
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
                    "corrections": [
                        {"original": c.original, "corrected": c.corrected, "note": c.note}
                        for c in clause.corrections
                    ],
                    "note": note,
                }
            )
        return items

    def summary(self) -> str:
        v = self.version
        head = f"依据 {v.title}（{v.id}@{v.version}），{VERDICT_LABELS[self.verdict]}"
        if self.verdict == TOLERABLE:
            return f"{head}：所依据的容错情形 {'、'.join(self.decisive)}；可作出{'、'.join(OUTCOME_LABELS[o] for o in self.outcomes)}的处理。"
        if self.verdict == NOT_TOLERABLE:
            return f"{head}：决定性条款 {'、'.join(self.decisive)}。"
        return f"{head}：尚缺 {len(self._missing)} 项可能改变结论的认定。"

    def to_dict(self) -> dict[str, Any]:
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


def _derive(version: RuleSetVersion, source: str, facts: dict[str, Any]) -> tuple[bool | None, str]:
    """The truth of a derived fact and the words that explain it; ``None`` when the data is absent."""
    if source == "major_loss":
        loss = facts["loss_amount"]
        if loss is None:
            return None, "未记录损失金额"
        param = version.parameters["major_loss_threshold"]
        hit = loss >= param.value
        return hit, (
            f"记录的损失金额 {loss:,.2f}{param.unit} {'≥' if hit else '<'} 重大损失数额参数 {param.value:,.0f}{param.unit}"
            f"（{version.id}@{version.version} 的配置值，非文件规定）"
        )
    if source == "repeat_same_matter":
        prior = facts["prior_same_matter"]
        if prior is None:
            return None, "未提供前案记录"
        if prior:
            cases = "、".join(f"{p['case'] or '未编号'}（{p['date']}）" for p in prior)
            return True, f"本人此前同类事由的案件：{cases}"
        return False, "系统记录中没有本人此前同类事由的案件（系统外的提醒由调查人员认定）"
    if source == "disposition_third_fourth":
        disposition = facts["disposition"]
        if disposition is None:
            return None, "未记录“四种形态”处理方式"
        return disposition in ("third", "fourth"), f"本案记录的处理方式：{DISPOSITIONS[disposition]}"
    raise RuleError(f"未知的派生来源：{source}")  # pragma: no cover - the loader rejects it


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
    comp = _compiled(version)
    conduct = to_date(conduct_date, "行为日期") if conduct_date is not None else None
    index = comp.index
    n = len(comp.ids)
    statuses = [UNKNOWN] * n
    attested: dict[int, tuple[int, str, str]] = {}
    ignored: list[str] = []
    if not isinstance(findings, Mapping):
        raise FindingError("findings", "findings 应为对象：条款编号 → 认定")
    for clause_id, value in findings.items():
        i = index.get(clause_id)
        if i is None:
            if strict:
                raise FindingError(
                    str(clause_id), f"规则集 {version.id}@{version.version} 没有条款 {clause_id}"
                )
            ignored.append(str(clause_id))
            continue
        code = CODES.get(value) if type(value) is str else None
        finding = (code, "", "") if code is not None else _parse_finding(clause_id, value)
        attested[i] = finding
        statuses[i] = finding[0]
    for parent, parts in comp.parts.items():
        if parent in attested and any(p in attested for p in parts):
            cid = comp.ids[parent]
            raise FindingError(cid, f"复合条款 {cid} 已逐项认定，不能再整体认定")

    answered: dict[int, tuple[int, list[tuple[str, str]]]] = {}
    notes: dict[int, str] = {}
    if answers:
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
                    if previous[0] != code:
                        answered[i] = (UNKNOWN, previous[1])
                        notes[i] = "共同问题的回答相互矛盾，未据以认定"
        for i, (code, _given) in answered.items():
            if i not in attested:
                statuses[i] = code

    derived: dict[int, tuple[int, str]] = {}
    parsed_facts = _parse_facts(facts, conduct) if facts is not None else None
    if parsed_facts is not None:
        unfavourable = comp.unfavourable
        for i, source, if_true, if_false in comp.derived:
            truth, basis = _derive(version, source, parsed_facts)
            if truth is None:
                continue
            outcome = if_true if truth else if_false
            d = CODES[outcome] if outcome else UNKNOWN
            derived[i] = (d, basis)
            if not d:
                continue
            finding = attested.get(i)
            if finding is None:
                if i in answered and answered[i][0] and answered[i][0] != d:
                    notes[i] = "共同问题的回答与系统派生结论不一致，按派生结论；如需覆盖请逐条认定并写明理由"
                statuses[i] = d
                continue
            code, reasoning = finding[0], finding[1]
            if code == UNKNOWN:
                notes[i] = "认定为“未认定”，按系统派生结论"
                statuses[i] = d
            elif code != d and d == unfavourable[i] and not reasoning:
                cid = comp.ids[i]
                raise FindingError(
                    cid,
                    f"条款 {cid} 由系统派生为“{STATUS_LABELS[NAMES[d]]}”，认定为“{STATUS_LABELS[NAMES[code]]}”须写明理由",
                )
    for parent, parts in comp.parts.items():
        if parent not in attested:
            statuses[parent] = _and([statuses[p] for p in parts])

    # Aggregate the three-valued states once; what-ifs below adjust these counts.
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
    verdict = _verdict(x_met, x_unk, p_fail, p_unk, s_hold, s_possible)

    ids = comp.ids
    decisive: list[str] = []
    if verdict == TOLERABLE:
        decisive = [ids[i] for i in comp.s if holds[i]]
    elif verdict == NOT_TOLERABLE:
        failed = [i for i in comp.x if statuses[i] == MET] + [i for i in comp.p if statuses[i] == NOT_MET]
        if not s_possible:
            for i in comp.s:
                failed.append(i)
                failed.extend(r for r in comp.reqs[i] if statuses[r] == NOT_MET)
        for i in sorted(failed):
            if statuses[i] == NOT_MET or comp.kinds[i] == "X":
                decisive.append(ids[i])
                decisive.extend(ids[p] for p in comp.parts.get(i, ()) if statuses[p] == statuses[i])

    missing: list[tuple[int, str, str]] = []
    if verdict == UNDETERMINED:
        counts = (x_met, x_unk, p_fail, p_unk, s_hold, s_possible)
        for i in comp.order:
            if statuses[i] != UNKNOWN:
                continue
            parent = comp.parent[i]
            top = i if parent < 0 else parent
            if parent >= 0 and statuses[parent] != UNKNOWN:
                continue
            if parent >= 0:
                siblings = [statuses[p] for p in comp.parts[parent] if p != i]
                top_if_met = _and([*siblings, MET])
            else:
                top_if_met = MET
            if_met = _what_if(comp, statuses, counts, possible, holds, top, top_if_met)
            if_not = _what_if(comp, statuses, counts, possible, holds, top, NOT_MET)
            kind = comp.kinds[top]
            relevant = kind in ("P", "X")
            if kind == "S":
                relevant = not s_hold and possible[top]
            elif kind == "R":
                relevant = not s_hold and possible[comp.situation_of[top]]
            if relevant:
                missing.append((i, if_met, if_not))

    mitigation = [ids[i] for i in comp.m if statuses[i] == MET]
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


def _what_if(
    comp: _Compiled,
    statuses: list[int],
    counts: tuple[int, int, int, int, int, int],
    possible: dict[int, bool],
    holds: dict[int, bool],
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
    version in force on the decision date (兼从轻), in which case both evaluations are returned."""
    reg = reg or registry()
    conduct = to_date(conduct_date, "行为日期")
    old = reg.version_for(ruleset_id, conduct)
    if decision_date is None:
        return evaluate_version(old, findings, facts, conduct_date=conduct, answers=answers)
    decision = to_date(decision_date, "决定日期")
    if decision < conduct:
        raise RuleError(f"决定日期 {decision} 早于行为日期 {conduct}")
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
            f"行为时（{conduct}）施行的版本 {old.version} 结论为“{VERDICT_LABELS[ev_old.verdict]}”；决定时（{decision}）"
            f"施行的版本 {new.version} 结论为“{VERDICT_LABELS[ev_new.verdict]}”，对干部更有利，依从旧兼从轻原则适用新版本。"
            "两种评估均列出。"
        )
        ev_new.version_choice = choice
        ev_new.alternative = ev_old
        return ev_new
    choice["applied"] = old.version
    choice["explanation"] = (
        f"适用行为时（{conduct}）施行的版本 {old.version}；决定时施行的版本 {new.version} 结论为"
        f"“{VERDICT_LABELS[ev_new.verdict]}”，并不更有利。"
    )
    ev_old.version_choice = choice
    return ev_old


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


__all__ = [
    "ENGINE_VERSION",
    "Evaluation",
    "compare",
    "evaluate",
    "evaluate_version",
    "pinned_version",
    "reproduce",
    "DERIVATION_SOURCES",
]
