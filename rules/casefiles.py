"""Worked examples beside each rule set (``rulesets/cases/<id>.yaml``): facts in, verdict and reasons out.

Written for a committee member to read: short clause ids (``P1``), Chinese statuses (符合 / 不符合 /
待查明), Chinese verdicts (予以容错 / 不予容错 / 尚不能认定). ``P*`` stands for every prerequisite not listed on its own (likewise
``S*``, ``X*``, ``R*``, ``M*``); when facts are given, ``*`` leaves fully derived clauses (a repeat
from earlier cases, a disposition) to the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.definitions import KINDS, OUTCOME_LABELS, STATUS_LABELS, VERDICT_LABELS
from rules.presentation import Evaluation
from rules.registry import RULESETS_DIR, Registry, registry
from rules.temporal import evaluate
from rules.yamlread import parse_yaml

CASES_DIR = RULESETS_DIR / "cases"
STATUS_WORDS = {
    **{v: k for k, v in STATUS_LABELS.items()},
    "met": "met",
    "not_met": "not_met",
    "unknown": "unknown",
}
VERDICT_WORDS = {v: k for k, v in VERDICT_LABELS.items()}
OUTCOME_WORDS = {v: k for k, v in OUTCOME_LABELS.items()}
SOURCE_WORDS = {"认定": "attested", "派生": "derived", "共同问题": "answers", "分项": "parts"}


@dataclass
class Case:
    ruleset: str
    name: str
    file: str
    line: int
    conduct_date: str
    findings: dict[str, Any]
    facts: dict[str, Any] | None
    answers: dict[str, str] | None
    decision_date: str | None
    expect: dict[str, Any]
    description: str = ""
    raw_findings: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.ruleset}: {self.name}"


def _full_id(ruleset: str, key: str) -> str:
    """``S1`` and ``S1.2`` are short for this rule set's clauses; ``zhejiang.P1`` is already full."""
    return f"{ruleset}.{key}" if key[:1] in KINDS else key


def _status(word: Any, where: str) -> str:
    if isinstance(word, str) and word in STATUS_WORDS:
        return STATUS_WORDS[word]
    raise ValueError(f"{where}: 无法识别的认定 {word!r}（应为 符合 / 不符合 / 待查明）")


def expand_findings(
    ruleset: str, raw: dict[str, Any], *, with_facts: bool, conduct_date: str, reg: Registry
) -> dict[str, Any]:
    """Turn a case file's readable findings into the engine's ``{clause id: finding}``."""
    version = reg.version_for(ruleset, conduct_date)
    out: dict[str, Any] = {}
    wildcards: dict[str, str] = {}
    for key, value in raw.items():
        if key.endswith("*") and key[:-1] in KINDS:
            wildcards[key[:-1]] = _status(value, key)
            continue
        cid = _full_id(ruleset, key)
        if isinstance(value, dict):
            out[cid] = {
                "status": _status(value.get("认定", value.get("status")), key),
                "reasoning": value.get("理由", value.get("reasoning", "")),
                "by": value.get("认定人", value.get("by", "")),
            }
        else:
            out[cid] = _status(value, key)
    listed = set(out)
    for clause in version.clauses:
        status = wildcards.get(clause.kind)
        if status is None or clause.parent is not None or clause.id in listed:
            continue
        if any(p in listed for p in clause.parts):
            continue
        # With facts, a fully derived clause (e.g. a repeat from earlier cases) is left to the data.
        if (
            with_facts
            and clause.derive is not None
            and None not in (clause.derive.if_true, clause.derive.if_false)
        ):
            continue
        out[clause.id] = status
    return out


def load_cases(path: Path) -> list[Case]:
    rel = path.name
    data = parse_yaml(path.read_text(encoding="utf-8"), rel)
    ruleset = data["ruleset"]
    cases = []
    for item in data["cases"]:
        facts = item.get("facts")
        cases.append(
            Case(
                ruleset=ruleset,
                name=item["name"],
                file=rel,
                line=item.line,
                conduct_date=str(item["conduct_date"]),
                findings={},
                raw_findings=dict(item.get("findings") or {}),
                facts=dict(facts) if facts is not None else None,
                answers=dict(item["answers"]) if item.get("answers") else None,
                decision_date=str(item["decision_date"]) if item.get("decision_date") else None,
                expect=dict(item["expect"]),
                description=str(item.get("description") or ""),
            )
        )
    return cases


def all_cases(directory: Path = CASES_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        cases.extend(load_cases(path))
    return cases


def _facts(case: Case) -> dict[str, Any] | None:
    if case.facts is None:
        return None
    facts = dict(case.facts)
    prior = facts.get("prior_same_matter")
    if prior is not None:
        facts["prior_same_matter"] = [
            {
                "case": str(p.get("case", "")),
                "date": str(p["date"]),
                "measure": p.get("measure"),
                "measure_date": str(p["measure_date"]) if p.get("measure_date") else None,
            }
            for p in prior
        ]
    return facts


def run_case(case: Case, reg: Registry | None = None) -> tuple[Evaluation, list[str]]:
    """Evaluate a case and list every way the result differs from what the file expects."""
    reg = reg or registry()
    case.findings = expand_findings(
        case.ruleset,
        case.raw_findings,
        with_facts=case.facts is not None,
        conduct_date=case.conduct_date,
        reg=reg,
    )
    ev = evaluate(
        case.ruleset,
        case.findings,
        case.conduct_date,
        facts=_facts(case),
        decision_date=case.decision_date,
        answers=case.answers,
        reg=reg,
    )
    problems: list[str] = []
    expect = case.expect
    want = VERDICT_WORDS.get(expect["verdict"], expect["verdict"])
    if ev.verdict != want:
        problems.append(f"结论应为 {expect['verdict']}，实为 {VERDICT_LABELS[ev.verdict]}")
    decisive = [_full_id(case.ruleset, k) for k in expect.get("decisive", [])]
    if ev.decisive != decisive:
        problems.append(f"决定性条款应为 {decisive}，实为 {ev.decisive}")
    if "outcomes" in expect:
        outcomes = [OUTCOME_WORDS.get(o, o) for o in expect["outcomes"]]
        if sorted(ev.outcomes) != sorted(outcomes):
            problems.append(f"处理方式应为 {expect['outcomes']}，实为 {ev.outcomes}")
    if "missing" in expect:
        missing = [_full_id(case.ruleset, k) for k in expect["missing"]]
        got = [m["clause"] for m in ev.missing]
        if got != missing:
            problems.append(f"尚缺认定应为 {missing}，实为 {got}")
    if "version" in expect and ev.version.version != str(expect["version"]):
        problems.append(f"适用版本应为 {expect['version']}，实为 {ev.version.version}")
    if "alternative" in expect:
        alt = expect["alternative"]
        if ev.alternative is None:
            problems.append("应同时列出另一版本的评估（从旧兼从轻），实际没有")
        elif ev.alternative.verdict != VERDICT_WORDS.get(alt["verdict"], alt["verdict"]):
            problems.append(
                f"另一版本的结论应为 {alt['verdict']}，实为 {VERDICT_LABELS[ev.alternative.verdict]}"
            )
    if "mitigation" in expect:
        mitigation = [_full_id(case.ruleset, k) for k in expect["mitigation"]]
        if ev.mitigation != mitigation:
            problems.append(f"从轻减轻情形应为 {mitigation}，实为 {ev.mitigation}")
    trace = {t["clause"]: t for t in ev.trace()}
    for key, value in (expect.get("trace") or {}).items():
        cid = _full_id(case.ruleset, key)
        line = trace.get(cid)
        if line is None:
            problems.append(f"轨迹中没有条款 {cid}")
            continue
        words = str(value).replace("（", " ").replace("）", " ").split()
        status = _status(words[0], key)
        if line["status"] != status:
            problems.append(f"{cid} 应为 {words[0]}，实为 {line['status_label']}")
        for word in words[1:]:
            source = SOURCE_WORDS.get(word)
            if source is None:
                problems.append(f"{cid}: 无法识别的来源 {word}")
            elif source not in line["source"]["type"]:
                problems.append(f"{cid} 的来源应含“{word}”，实为 {line['source']['label']}")
    return ev, problems
