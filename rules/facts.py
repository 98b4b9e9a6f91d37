"""The facts the engine derives clauses from: checking what callers hand in, and each derivation.

Owns ``parse_facts`` (loss amount, disposition, earlier cases of the same matter with the
accountability measure each recorded) and ``derive``, which turns one derivation source into
true / false / no conclusion plus the words that explain it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules.dates import cn_date, to_date
from rules.definitions import DISPOSITIONS, MEASURES, RuleSetVersion
from rules.errors import FactError, RuleError

FACT_KEYS = frozenset({"loss_amount", "disposition", "prior_same_matter"})
# Measures after which a new error of the same matter is a repeat "在被问责或组织提醒后".
HELD_TO_ACCOUNT = ("accountability", "reminder")


def parse_facts(facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Check the facts and normalise them (dates as ISO text; absent measure fields as ``None``)."""
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
    earlier: list[dict[str, str | None]] | None = None
    if prior is not None:
        if not isinstance(prior, list):
            raise FactError("prior_same_matter", "prior_same_matter 应为列表")
        earlier = [_prior_case(item) for item in prior]
    return {"loss_amount": loss, "disposition": disposition, "prior_same_matter": earlier}


def _prior_case(item: Any) -> dict[str, str | None]:
    """One earlier case: ``{case, date, measure, measure_date}``; only ``date`` is required."""
    if not isinstance(item, Mapping) or "date" not in item:
        raise FactError("prior_same_matter", "prior_same_matter 每项应为 {case, date, measure, measure_date}")
    measure = item.get("measure") or None
    if measure is not None and measure not in MEASURES:
        raise FactError(
            "prior_same_matter", f"前案的问责措施应为 {' / '.join(MEASURES)} 或 null，实为 {measure!r}"
        )
    try:
        when = to_date(item["date"], "前案日期")
        raw = item.get("measure_date")
        measure_date = to_date(raw, "前案问责或组织提醒日期") if raw else None
    except RuleError as exc:
        raise FactError("prior_same_matter", str(exc)) from None
    return {
        "case": str(item.get("case") or ""),
        "date": when.isoformat(),
        "measure": measure,
        "measure_date": measure_date.isoformat() if measure_date else None,
    }


def derive(
    version: RuleSetVersion, source: str, facts: dict[str, Any], conduct: dt.date | None
) -> tuple[bool | None, str]:
    """The truth of a derived fact and the words that explain it.

    ``(None, "")``: no data was handed in. ``(None, words)``: the record cannot say, and why.
    """
    if source == "major_loss":
        loss = facts["loss_amount"]
        if loss is None:
            return None, ""
        param = version.parameters["major_loss_threshold"]
        hit = loss >= param.value
        return hit, (
            f"记录的损失金额 {loss:,.2f}{param.unit} {'≥' if hit else '<'} 重大损失数额参数 {param.value:,.0f}{param.unit}"
            "（系统配置值，非文件规定）"
        )
    if source == "repeat_same_matter":
        return _repeat_same_matter(facts["prior_same_matter"], conduct)
    if source == "repeat_after_accountability":
        return _repeat_after_accountability(facts["prior_same_matter"], conduct)
    if source == "disposition_third_fourth":
        disposition = facts["disposition"]
        if disposition is None:
            return None, ""
        return disposition in ("third", "fourth"), f"本案记录的处理方式：{DISPOSITIONS[disposition]}"
    raise RuleError(f"未知的派生来源：{source}")  # pragma: no cover - the loader rejects it


def _cn(iso: str) -> str:
    return cn_date(dt.date.fromisoformat(iso))


def _name(p: Mapping[str, Any]) -> str:
    return p["case"] or "未编号"


def _repeat_same_matter(prior: list[dict[str, Any]] | None, conduct: dt.date | None) -> tuple[bool | None, str]:
    """Any earlier case of the same matter, by the earlier case's conduct date."""
    if prior is None:
        return None, ""
    earlier = [p for p in prior if conduct is None or p["date"] < conduct.isoformat()]
    if earlier:
        cases = "、".join(f"{_name(p)}（{_cn(p['date'])}）" for p in earlier)
        return True, f"本人此前同类事由的案件：{cases}"
    return False, "系统记录中没有本人此前同类事由的案件（系统外的提醒由调查人员认定）"


def _repeat_after_accountability(
    prior: list[dict[str, Any]] | None, conduct: dt.date | None
) -> tuple[bool | None, str]:
    """An earlier case of the same matter that held the cadre accountable or reminded them, dated
    before this conduct. A case ended without either (e.g. tolerated and exempt) does not count."""
    if prior is None:
        return None, ""
    held, unclear = [], []
    for p in prior:
        measure, when = p["measure"], p["measure_date"]
        if measure == "none":
            continue
        if measure is None:
            unclear.append(f"{_name(p)}（未记录是否问责或组织提醒）")
        elif when is None:
            unclear.append(f"{_name(p)}（{MEASURES[measure]}，未记录日期）")
        elif conduct is None:
            unclear.append(f"{_name(p)}（{MEASURES[measure]}，{_cn(when)}；未给出本案行为日期）")
        elif when < conduct.isoformat():
            held.append(f"{_name(p)}（{MEASURES[measure]}，{_cn(when)}）")
    if held:
        return True, (
            f"本人此前因同一事由被问责或组织提醒：{'、'.join(held)}，本案行为（{cn_date(conduct)}）在其后；"
            "本案失误是否属于“重大失误或过错”须调查认定"
        )
    if unclear:
        return None, f"前案记录不足以判断是否在被问责或组织提醒后重复出错：{'、'.join(unclear)}"
    return False, "系统记录中没有本人在本案行为前因同一事由被问责或组织提醒的案件（系统外的提醒由调查人员认定）"
