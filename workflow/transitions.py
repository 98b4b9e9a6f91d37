"""The table of actions: which states each is open in and where it leads. Checked in one place."""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import CaseState as S


@dataclass(frozen=True)
class Transition:
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (or depends on the payload)


_OPEN = frozenset({S.STARTED, S.INVESTIGATING, S.PROPOSED})

TRANSITIONS: dict[str, Transition] = {
    "investigate": Transition("开始调查", frozenset({S.STARTED}), S.INVESTIGATING),
    "record_finding": Transition("记录认定", frozenset({S.INVESTIGATING}), None),
    "add_participant": Transition("邀请参与调查", frozenset({S.INVESTIGATING}), None),
    "add_evidence": Transition("上传证据材料", frozenset({S.STARTED, S.INVESTIGATING, S.EXECUTED, S.APPEALED}), None),
    "add_statement": Transition("提交陈述", _OPEN, None),
    "propose": Transition("提出初步建议", frozenset({S.INVESTIGATING}), S.PROPOSED),
    "consult_reply": Transition("回复会商意见", frozenset({S.PROPOSED}), None),
    "send_back": Transition("退回补充调查", frozenset({S.PROPOSED}), S.INVESTIGATING),
    "recuse": Transition("申请回避", frozenset({S.PROPOSED, S.APPEALED}), None),
    "decide": Transition("集体研究决定", frozenset({S.PROPOSED}), S.DECIDED),
    "execute": Transition("执行并送达", frozenset({S.DECIDED}), S.EXECUTED),
    "appeal": Transition("提出申诉", frozenset({S.EXECUTED}), S.APPEALED),
    "review_appeal": Transition("申诉复核", frozenset({S.APPEALED}), None),  # decided or closed
    "reassign": Transition("转交承办人", frozenset({*_OPEN, S.DECIDED, S.EXECUTED, S.APPEALED}), None),
    "withdraw": Transition("撤回", _OPEN, S.WITHDRAWN),
    "close": Transition("办结", frozenset({S.EXECUTED}), S.CLOSED),
}

# The actions offered as buttons/API actions (the rest are sub-resources such as findings and evidence).
CASE_ACTIONS = [
    "investigate", "propose", "consult_reply", "send_back", "recuse", "decide", "execute", "appeal",
    "review_appeal", "reassign", "withdraw",
]


def is_open_in(action: str, state: str) -> bool:
    transition = TRANSITIONS.get(action)
    return transition is not None and state in transition.sources
