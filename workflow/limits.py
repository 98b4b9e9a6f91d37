"""The length limit of every free text a user can submit, defined once.

The services enforce these (a 400 naming the field, nothing written); the page forms and the API
input serializers take their ``max_length`` from here, so the HTML carries ``maxlength`` and the
page's character counter shows the same number the server checks.
"""

from __future__ import annotations

from dataclasses import dataclass

LONG_TEXT = 20000  # narratives: the case summary, opinions, decisions, appeals
REASONING = 5000  # one clause's reasoning, a participant's opinion, a consultation comment
REASON = 2000  # why a case is sent back, recused from, withdrawn or reassigned


@dataclass(frozen=True)
class TextLimit:
    """One free text: the input field that carries it, its Chinese name, and its limit in characters."""

    field: str
    label: str
    max_length: int


LIMITS: dict[str, TextLimit] = {
    "case.title": TextLimit("title", "事项名称", 200),
    "case.summary": TextLimit("summary", "基本情况", LONG_TEXT),
    "case.remedial_measures": TextLimit("remedial_measures", "补救措施", LONG_TEXT),
    "finding.reasoning": TextLimit("reasoning", "认定理由", REASONING),
    "evidence.description": TextLimit("description", "材料说明", 500),
    "statement.text": TextLimit("text", "陈述内容", LONG_TEXT),
    "participant.name": TextLimit("name", "姓名", 50),
    "participant.affiliation": TextLimit("affiliation", "单位", 100),
    "participant.opinion": TextLimit("opinion", "参与人员意见", REASONING),
    "proposal.opinion": TextLimit("opinion", "初步意见", LONG_TEXT),
    "consultation.comment": TextLimit("comment", "会商说明", REASONING),
    # One form serves sending back, recusal and withdrawal; reassignment has the same limit.
    "action.reason": TextLimit("reason", "理由", REASON),
    "decision.resolution": TextLimit("resolution", "决定内容", LONG_TEXT),
    "decision.override_reason": TextLimit("override_reason", "与规则评估不一致的理由", REASON),
    "appeal.reasons": TextLimit("reasons", "申诉理由", LONG_TEXT),
}


def limit_of(key: str) -> int:
    return LIMITS[key].max_length


def too_long_message(label: str, max_length: int, length: int) -> str:
    return f"{label}不能超过 {max_length} 字（现为 {length} 字）。"
