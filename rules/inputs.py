"""The one input shape shared by the command, the REST API and the compare page.

``{"findings": {...}, "loss_amount": 0, "disposition": null, "prior_same_matter": [...], "answers": {...}}``:
facts are handed to the engine only for the keys present, so findings alone are taken as stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.definitions import OUTCOME_LABELS, STATUS_LABELS, VERDICT_LABELS
from rules.errors import FactError, FindingError
from rules.presentation import Evaluation

FACT_KEYS = ("loss_amount", "disposition", "prior_same_matter")
PAYLOAD_KEYS = {"findings", "answers", "conduct_date", "decision_date", "date", "rulesets", *FACT_KEYS}


def split_payload(payload: Any) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, str] | None]:
    """``(findings, facts or None, answers or None)`` from a request body or facts file."""
    if not isinstance(payload, Mapping):
        raise FindingError("findings", "输入应为 JSON 对象")
    unknown = sorted(set(payload) - PAYLOAD_KEYS)
    if unknown:
        raise FactError(unknown[0], f"未知的输入字段：{unknown[0]}")
    findings = payload.get("findings", {})
    if not isinstance(findings, Mapping):
        raise FindingError("findings", "findings 应为对象：条款编号 → 认定")
    facts = {k: payload[k] for k in FACT_KEYS if k in payload}
    answers = payload.get("answers")
    if answers is not None and not isinstance(answers, Mapping):
        raise FindingError("answers", "answers 应为对象：问题编号 → yes / no / unknown")
    return dict(findings), (facts or None), (dict(answers) if answers else None)


def render_text(ev: Evaluation) -> str:
    """A plain-text explanation a committee member can hold against the document."""
    v = ev.version
    lines = [
        f"规则集：{v.title}（{v.id}@{v.version}{'，' + v.doc_number if v.doc_number else ''}）",
        f"内容哈希：{v.content_hash}  引擎版本：{ev.to_dict()['engine_version']}",
        f"结论：{VERDICT_LABELS[ev.verdict]}",
    ]
    if ev.outcomes:
        lines.append("可作出的处理：" + "、".join(OUTCOME_LABELS[o] for o in ev.outcomes))
    if ev.decisive:
        lines.append("决定性条款：" + "、".join(ev.decisive))
    if ev.mitigation:
        lines.append("具有从轻减轻情形：" + "、".join(ev.mitigation))
    for m in ev.missing:
        lines.append(f"尚缺认定 {m['clause']}（{m['title']}）：{m['effect']}")
    if ev.version_choice:
        lines.append(ev.version_choice["explanation"])
    lines.append("")
    for t in ev.trace():
        indent = "    " if t["parent"] else "  "
        lines.append(
            f"{indent}[{STATUS_LABELS[t['status']]}] {t['clause']} {t['kind_label']}·{t['title']}（{t['citation']}）"
        )
        lines.append(f"{indent}    原文：{t['text']}")
        lines.append(f"{indent}    来源：{t['source']['label']}")
    if ev.alternative is not None:
        lines.append("")
        lines.append("—— 另一版本的评估 ——")
        lines.append(render_text(ev.alternative))
    return "\n".join(lines)
