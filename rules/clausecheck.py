"""The schema of a rule file's clauses: ids, kinds, parts, derivations, answers, corrections.

Owns ``ClauseChecks``, the half of ``rules.filecheck.FileChecker`` that builds ``Clause`` objects
from the ``clauses:`` list, recording every problem as ``file:line: problem``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rules.definitions import (
    ANSWER_VALUES,
    COMBINES,
    DERIVATION_SOURCES,
    KINDS,
    Clause,
    Correction,
    Derivation,
    Parameter,
    Question,
)
from rules.errors import RuleFileProblem
from rules.yamlread import Node

QUESTIONS_FILE = "questions.yaml"
CLAUSE_KEYS = {
    "id", "kind", "title", "text", "citation", "establish", "applies_to", "parts", "combine", "derive", "answers",
    "verbatim", "corrections", "note", "example", "source",
}
PART_KEYS = CLAUSE_KEYS - {"kind", "applies_to", "parts", "combine"}
STATUS_VALUES = ("met", "not_met")


class ClauseChecks:
    """Checks and builds the clauses of one file; ``FileChecker`` adds the header and sets the fields."""

    path: str
    data: Any
    questions: dict[str, Question]
    problems: list[RuleFileProblem]

    def problem(self, node: Any, key: str | None, message: str) -> None:
        """Record a problem at the line of ``key`` in ``node`` (or of the node itself)."""
        line = None
        if isinstance(node, Node):
            line = node.key_lines.get(key, node.line) if key else node.line
        self.problems.append(RuleFileProblem(self.path, line, message))

    def _str(self, node: Node, key: str, *, required: bool = True, where: str = "") -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, None, f"{where}缺少字段 {key}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(node, key, f"{where}字段 {key} 应为非空文本")
            return None
        return value.strip()

    def clauses(
        self, rid: str, parameters: dict[str, Parameter], default_rules: dict[str, str] | None = None
    ) -> list[Clause]:
        """Every clause of the file in source order, each compound clause followed by its parts;
        clauses of a kind in ``default_rules`` carry the words that make them a default."""
        out: list[Clause] = []
        counters = dict.fromkeys(KINDS, 0)
        for node in self.data["clauses"]:
            if not isinstance(node, Node):
                self.problems.append(RuleFileProblem(self.path, None, "clauses 的每一项应为映射"))
                continue
            for key in node:
                if key not in CLAUSE_KEYS:
                    self.problem(node, key, f"条款中未知字段 {key}")
            cid = node.get("id")
            kind = node.get("kind")
            if kind not in KINDS:
                self.problem(node, "kind", f"条款 {cid} 的 kind 应为 P/S/X/R/M 之一，实为 {kind!r}")
                continue
            # Ids count clauses of a kind in source order, so a citation can be found from the id.
            counters[kind] += 1
            expected = f"{rid}.{kind}{counters[kind]}"
            if cid != expected:
                self.problem(
                    node,
                    "id",
                    f"条款编号应为 {expected}（<规则集>.<类别><该类别在原文中的序号>），实为 {cid!r}",
                )
                continue
            clause = self._clause(node, cid, kind, rid, parent=None, parameters=parameters)
            if clause is None:
                continue
            parts = self._parts(node, clause, rid, parameters)
            combine = self._combine(node, cid, has_parts=bool(parts))
            if parts:
                clause = replace(clause, parts=tuple(p.id for p in parts), combine=combine)
            basis = (default_rules or {}).get(kind, "")
            if basis:
                clause = replace(clause, default_rule=basis)
                parts = [replace(p, default_rule=basis) for p in parts]
            out.append(clause)
            out.extend(parts)
        return out

    def check_borrowed_citations(self, clauses: list[Clause], file_source: str) -> None:
        """A clause quoted from another document than the file's must name that document in its
        citation (《…》 or its 文号), since pages and documents show only the citation."""
        for c in clauses:
            if c.source and c.source != file_source and "《" not in c.citation and "〔" not in c.citation:
                self.problems.append(
                    RuleFileProblem(
                        self.path,
                        c.line,
                        f"条款 {c.id} 引自 {c.source}，其 citation 须写明所引文件的名称或文号及条目",
                    )
                )

    def _combine(self, node: Node, cid: str, *, has_parts: bool) -> str:
        """How a compound clause's parts combine: ``all`` unless the file says ``any``."""
        value = node.get("combine")
        if value is None:
            return "all"
        if value not in COMBINES:
            self.problem(node, "combine", f"条款 {cid} 的 combine 应为 all 或 any，实为 {value!r}")
            return "all"
        if not has_parts:
            self.problem(node, "combine", f"条款 {cid} 没有 parts，不能写 combine")
        return str(value)

    def _parts(self, node: Node, clause: Clause, rid: str, parameters: dict[str, Parameter]) -> list[Clause]:
        raw_parts = node.get("parts")
        if raw_parts is None:
            return []
        cid = clause.id
        parts: list[Clause] = []
        if not isinstance(raw_parts, list) or len(raw_parts) < 2:
            self.problem(node, "parts", f"条款 {cid} 的 parts 应为至少两项的列表")
            return []
        for i, part_node in enumerate(raw_parts, start=1):
            if not isinstance(part_node, Node):
                self.problem(node, "parts", f"条款 {cid} 的 parts 每一项应为映射")
                continue
            for key in part_node:
                if key not in PART_KEYS:
                    self.problem(part_node, key, f"分项中未知字段 {key}")
            pid = f"{cid}.{i}"
            if part_node.get("id") != pid:
                self.problem(part_node, "id", f"分项编号应为 {pid}，实为 {part_node.get('id')!r}")
                continue
            part = self._clause(part_node, pid, clause.kind, rid, parent=cid, parameters=parameters)
            if part is not None:
                parts.append(part)
        if clause.derive is not None and parts:
            self.problem(node, "derive", f"复合条款 {cid} 不能整体派生，请在分项上写 derive")
        return parts

    def _clause(
        self,
        node: Node,
        cid: str,
        kind: str,
        rid: str,
        *,
        parent: str | None,
        parameters: dict[str, Parameter],
    ) -> Clause | None:
        where = f"条款 {cid}："
        text = self._str(node, "text", where=where)
        title = self._str(node, "title", where=where)
        # A part may borrow its compound clause's citation.
        citation = (
            self._str(node, "citation", where=where)
            if parent is None
            else (self._str(node, "citation", required=False, where=where) or "")
        )
        if text is None or title is None or citation is None:
            return None
        establish = node.get("establish", "attested")
        if establish not in ("attested", "derived"):
            self.problem(node, "establish", f"{where}establish 应为 attested 或 derived")
            return None
        derive = self._derivation(node, establish, parameters, where)
        answers = self._answers(node, where)
        corrections = self._corrections(node, text, where)
        verbatim = node.get("verbatim", True)
        example = node.get("example", False)
        if not isinstance(verbatim, bool) or not isinstance(example, bool):
            self.problem(node, None, f"{where}verbatim 与 example 应为 true 或 false")
        note = str(node.get("note") or "").strip()
        if verbatim is False and not note:
            self.problem(node, "verbatim", f"{where}非原文条款（verbatim: false）须在 note 中说明来由")
        applies_to = node.get("applies_to")
        if kind == "R" and parent is None and not isinstance(applies_to, str):
            self.problem(node, None, f"{where}程序要求（R）须写明 applies_to（所附的容错情形）")
        if kind != "R" and applies_to is not None:
            self.problem(node, "applies_to", f"{where}只有程序要求（R）可写 applies_to")
        return Clause(
            id=cid,
            kind=kind,
            title=title,
            text=text,
            citation=citation,
            establish=establish,
            ruleset=rid,
            parent=parent,
            applies_to=applies_to if isinstance(applies_to, str) else None,
            derive=derive,
            answers=answers,
            verbatim=bool(verbatim),
            corrections=corrections,
            note=note,
            example=bool(example),
            source=str(node.get("source") or ""),
            line=node.line,
        )

    def _derivation(
        self, node: Node, establish: str, parameters: dict[str, Parameter], where: str
    ) -> Derivation | None:
        raw_derive = node.get("derive")
        if establish == "derived" and raw_derive is None:
            self.problem(node, "establish", f"{where}establish: derived 须同时写明 derive（由何数据计算）")
        if raw_derive is None:
            return None
        if establish != "derived":
            self.problem(node, "derive", f"{where}有 derive 的条款须写 establish: derived")
        if not isinstance(raw_derive, Node) or raw_derive.get("from") not in DERIVATION_SOURCES:
            self.problem(node, "derive", f"{where}derive.from 应为 {'/'.join(DERIVATION_SOURCES)} 之一")
            return None
        if_true = raw_derive.get("if_true")
        if_false = raw_derive.get("if_false")
        for key, value in (("if_true", if_true), ("if_false", if_false)):
            if value is not None and value not in STATUS_VALUES:
                self.problem(raw_derive, key, f"{where}derive.{key} 应为 met、not_met 或 null")
        if if_true is None and if_false is None:
            self.problem(raw_derive, None, f"{where}derive 的 if_true 与 if_false 不能都为空")
        # The documents give no loss figure: a derivation from it needs the configured threshold.
        if raw_derive["from"] == "major_loss" and "major_loss_threshold" not in parameters:
            self.problem(
                raw_derive, "from", f"{where}由重大损失派生须在 parameters 中设 major_loss_threshold"
            )
        return Derivation(raw_derive["from"], if_true, if_false)

    def _answers(self, node: Node, where: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
        raw_answers = node.get("answers")
        if raw_answers is None:
            return ()
        if not isinstance(raw_answers, Node):
            self.problem(node, "answers", f"{where}answers 应为映射")
            return ()
        answers: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        for question, mapping in raw_answers.items():
            if question not in self.questions:
                self.problem(
                    raw_answers, question, f"{where}未知的共同问题 {question}（见 {QUESTIONS_FILE}）"
                )
                continue
            if (
                not isinstance(mapping, Node)
                or not mapping
                or any(k not in ANSWER_VALUES or v not in STATUS_VALUES for k, v in mapping.items())
            ):
                self.problem(
                    raw_answers, question, f"{where}共同问题 {question} 的映射应为 {{yes|no: met|not_met}}"
                )
                continue
            answers.append((question, tuple(sorted(mapping.items()))))
        return tuple(sorted(answers))

    def _corrections(self, node: Node, text: str, where: str) -> tuple[Correction, ...]:
        corrections: list[Correction] = []
        for c in node.get("corrections") or []:
            if not isinstance(c, Node) or not c.get("original") or not c.get("corrected"):
                self.problem(node, "corrections", f"{where}corrections 每项须有 original 与 corrected")
                continue
            if str(c["corrected"]) not in text:
                self.problem(c, "corrected", f"{where}更正后的文字 {c['corrected']!r} 不在条文中")
            corrections.append(Correction(str(c["original"]), str(c["corrected"]), str(c.get("note") or "")))
        return tuple(corrections)
