"""The facts the engine derives clauses from: checking what callers hand in, and each derivation.

Owns ``parse_facts`` (loss amount, disposition, earlier cases of the same matter) and ``derive``,
which turns one derivation source into true / false / no data plus the words that explain it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules.dates import to_date
from rules.definitions import DISPOSITIONS, RuleSetVersion
from rules.errors import FactError, RuleError

FACT_KEYS = frozenset({"loss_amount", "disposition", "prior_same_matter"})


def parse_facts(facts: Mapping[str, Any] | None, conduct_date: dt.date | None) -> dict[str, Any] | None:
    """Check the facts and normalise them; earlier cases are kept only if dated before the conduct."""
    if facts is None:
        return None
    if not isinstance(facts, Mapping):
        raise FactError("facts", "facts 应为对象")
    unknown = set(facts) - FACT_KEYS
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


def derive(version: RuleSetVersion, source: str, facts: dict[str, Any]) -> tuple[bool | None, str]:
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
