"""The schema of one rule file: checks a parsed file and builds its header and clauses.

Owns ``FileChecker``, which collects every problem it sees as ``file:line: problem`` (it never
stops at the first) and the lists of allowed keys. Whole-directory checks (duplicate versions,
``extends``, overlapping dates) belong to ``rules.registry``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rules.clausecheck import QUESTIONS_FILE, ClauseChecks
from rules.dates import to_date
from rules.definitions import (
    KINDS,
    OUTCOMES,
    Parameter,
    Question,
)
from rules.errors import InvalidDateError, RuleFileProblem
from rules.yamlread import Node

__all__ = ["QUESTIONS_FILE", "FileChecker"]

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*$")
TOP_KEYS = {
    "id", "version", "title", "issuer", "doc_number", "jurisdiction", "effective_from",
    "effective_from_approximate", "effective_to", "supersedes", "extends", "source", "outcomes",
    "outcomes_citation", "parameters", "notes", "example", "clauses", "governs_earlier_conduct",
    "governs_earlier_conduct_basis", "default_rules",
}
REQUIRED_TOP = ("id", "version", "title", "issuer", "jurisdiction", "effective_from", "clauses")
DEFAULT_OUTCOMES = ["exempt", "lighter", "mitigated"]


class FileChecker(ClauseChecks):
    """Validates one parsed rule file and builds its version; collects every problem it sees."""

    def __init__(self, path: str, data: Any, questions: dict[str, Question]) -> None:
        self.path = path
        self.data = data
        self.questions = questions
        self.problems: list[RuleFileProblem] = []

    def _date(self, node: Node, key: str, *, required: bool) -> dt.date | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, None, f"缺少字段 {key}")
            return None
        try:
            return to_date(value, key)
        except InvalidDateError:
            self.problem(node, key, f"字段 {key} 应为日期 YYYY-MM-DD，实为 {value!r}")
            return None

    # -- header ---------------------------------------------------------------------------------

    def header(self) -> dict[str, Any] | None:
        """The version's header fields, or ``None`` when the file cannot yield a version at all."""
        data = self.data
        if not isinstance(data, Node):
            self.problems.append(RuleFileProblem(self.path, 1, "文件顶层应为映射（键: 值）"))
            return None
        for key in data:
            if key not in TOP_KEYS:
                self.problem(data, key, f"未知字段 {key}")
        for key in REQUIRED_TOP:
            if key not in data:
                self.problem(data, None, f"缺少字段 {key}")
        rid = data.get("id")
        if not isinstance(rid, str) or not SLUG_RE.match(rid):
            self.problem(data, "id", f"规则集 id 应为小写字母、数字和连字符组成的 slug，实为 {rid!r}")
            rid = None
        version = data.get("version")
        if isinstance(version, int | float) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not version.strip():
            self.problem(data, "version", '字段 version 应为文本标签，如 "2019"')
            version = None
        effective_from = self._date(data, "effective_from", required=True)
        effective_to = self._date(data, "effective_to", required=False)
        if effective_from and effective_to and effective_to < effective_from:
            self.problem(data, "effective_to", "effective_to 早于 effective_from")
        extends = self._extends(data)
        outcomes = self._outcomes(data)
        parameters = self._parameters(data)
        doc_number = data.get("doc_number")
        if doc_number is not None and not isinstance(doc_number, str):
            self.problem(data, "doc_number", "doc_number 应为文本或 null")
            doc_number = None
        for flag in ("effective_from_approximate", "example", "governs_earlier_conduct"):
            if flag in data and not isinstance(data[flag], bool):
                self.problem(data, flag, f"{flag} 应为 true 或 false")
        governs_earlier = data.get("governs_earlier_conduct") is True
        earlier_basis = self._str(data, "governs_earlier_conduct_basis", required=False) or ""
        if governs_earlier and not earlier_basis:
            self.problem(
                data, "governs_earlier_conduct", "governs_earlier_conduct: true 须写明 governs_earlier_conduct_basis（文件中的依据）"
            )
        if earlier_basis and not governs_earlier:
            self.problem(data, "governs_earlier_conduct_basis", "只有 governs_earlier_conduct: true 时才写依据")
        if not isinstance(data.get("clauses"), list):
            if "clauses" in data:
                self.problem(data, "clauses", "clauses 应为列表")
            return None
        return {
            "id": rid,
            "version": version.strip() if version else None,
            "title": self._str(data, "title") or "",
            "issuer": self._str(data, "issuer") or "",
            "doc_number": doc_number,
            "jurisdiction": self._str(data, "jurisdiction") or "",
            "effective_from": effective_from,
            "effective_from_approximate": bool(data.get("effective_from_approximate", False)),
            "effective_to": effective_to,
            "supersedes": data.get("supersedes") if isinstance(data.get("supersedes"), str) else None,
            "extends": extends,
            "source": data.get("source") or "",
            "outcomes": tuple(outcomes),
            "outcomes_citation": str(data.get("outcomes_citation") or ""),
            "parameters": parameters,
            "notes": str(data.get("notes") or "").strip(),
            "example": bool(data.get("example", False)),
            "governs_earlier_conduct": governs_earlier,
            "earlier_conduct_basis": earlier_basis,
            "default_rules": self._default_rules(data),
        }

    def _default_rules(self, data: Node) -> dict[str, str]:
        """Kinds of clause the document states as defaults (一般 / 原则上), each with those words."""
        raw = data.get("default_rules")
        if raw is None:
            return {}
        if not isinstance(raw, Node):
            self.problem(data, "default_rules", "default_rules 应为映射：条款类别 → 文件中的原话")
            return {}
        rules: dict[str, str] = {}
        for kind, basis in raw.items():
            if kind not in KINDS:
                self.problem(raw, kind, f"default_rules 的键应为 P/S/X/R/M 之一，实为 {kind!r}")
            elif not isinstance(basis, str) or not basis.strip():
                self.problem(raw, kind, f"default_rules.{kind} 应引用文件中说明其为原则性规定的原话")
            else:
                rules[kind] = basis.strip()
        return rules

    def _extends(self, data: Node) -> tuple[str, str] | None:
        raw = data.get("extends")
        if raw is None:
            return None
        if not isinstance(raw, str) or "@" not in raw:
            self.problem(data, "extends", 'extends 应写作 "规则集id@版本"，例如 zhejiang@2018')
            return None
        base_id, base_version = raw.split("@", 1)
        return base_id, base_version

    def _outcomes(self, data: Node) -> list[str]:
        outcomes = data.get("outcomes", DEFAULT_OUTCOMES)
        # "refused" is the engine's answer to not_tolerable, never an outcome a file may offer.
        if (
            not isinstance(outcomes, list)
            or not outcomes
            or any(o not in OUTCOMES or o == "refused" for o in outcomes)
        ):
            self.problem(data, "outcomes", "outcomes 应为 exempt / lighter / mitigated 中的一项或多项")
            return DEFAULT_OUTCOMES
        return outcomes

    def _parameters(self, data: Node) -> dict[str, Parameter]:
        parameters: dict[str, Parameter] = {}
        raw_params = data.get("parameters")
        if raw_params is None:
            return parameters
        if not isinstance(raw_params, Node):
            self.problem(data, "parameters", "parameters 应为映射")
            return parameters
        for name, spec in raw_params.items():
            if (
                not isinstance(spec, Node)
                or not isinstance(spec.get("value"), int | float)
                or isinstance(spec.get("value"), bool)
            ):
                self.problem(raw_params, name, f"参数 {name} 应有数值 value")
                continue
            if not isinstance(spec.get("note"), str) or not spec["note"].strip():
                self.problem(
                    spec, None, f"参数 {name} 须有 note 说明其来源（文件未规定的数额是配置，不是事实）"
                )
            parameters[name] = Parameter(
                name, float(spec["value"]), str(spec.get("unit", "")), str(spec.get("note", ""))
            )
        return parameters
