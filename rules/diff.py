"""Clause-level differences between two versions of a rule set, for the browser and reviews."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.definitions import RuleSetVersion

CLAUSE_FIELDS = {
    "title": "简称",
    "text": "条文",
    "citation": "出处",
    "kind": "类别",
    "establish": "认定方式",
    "derive": "派生规则",
    "applies_to": "所附情形",
    "parts": "分项",
    "combine": "分项组合方式",
    "answers": "共同问题映射",
    "note": "说明",
    "corrections": "更正",
}
CLAUSE_DEFAULTS = {"combine": "all"}
HEADER_FIELDS = {
    "title": "标题",
    "doc_number": "发文字号",
    "effective_from": "施行日期",
    "effective_to": "终止日期",
    "outcomes": "处理方式",
    "parameters": "参数",
}


@dataclass
class ClauseChange:
    clause: str
    change: str  # added / removed / changed / unchanged
    fields: list[dict[str, Any]] = field(default_factory=list)
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改", "unchanged": "未变"}[self.change]


@dataclass
class VersionDiff:
    old: RuleSetVersion
    new: RuleSetVersion
    header: list[dict[str, Any]]
    clauses: list[ClauseChange]

    @property
    def changed(self) -> list[ClauseChange]:
        return [c for c in self.clauses if c.change != "unchanged"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.old.version,
            "to": self.new.version,
            "header": self.header,
            "clauses": [{"clause": c.clause, "change": c.change, "fields": c.fields} for c in self.clauses],
        }


def diff_versions(old: RuleSetVersion, new: RuleSetVersion) -> VersionDiff:
    a, b = old.snapshot(), new.snapshot()
    header = [
        {"field": key, "label": label, "old": a[key], "new": b[key]}
        for key, label in HEADER_FIELDS.items()
        if a[key] != b[key]
    ]
    old_clauses = {c["id"]: c for c in a["clauses"]}
    new_clauses = {c["id"]: c for c in b["clauses"]}
    order = list(new_clauses) + [cid for cid in old_clauses if cid not in new_clauses]
    changes: list[ClauseChange] = []
    for cid in order:
        before, after = old_clauses.get(cid), new_clauses.get(cid)
        if before is None:
            changes.append(ClauseChange(cid, "added", new=after))
        elif after is None:
            changes.append(ClauseChange(cid, "removed", old=before))
        else:
            fields = [
                {"field": key, "label": label, "old": before.get(key, default), "new": after.get(key, default)}
                for key, label in CLAUSE_FIELDS.items()
                # Keys a snapshot writes only when set: absent means the default.
                for default in [CLAUSE_DEFAULTS.get(key)]
                if before.get(key, default) != after.get(key, default)
            ]
            changes.append(ClauseChange(cid, "changed" if fields else "unchanged", fields, before, after))
    return VersionDiff(old, new, header, changes)
