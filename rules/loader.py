"""Reads and validates the rule-set files in ``rules/rulesets/``; parsed once per process.

Every problem is reported as ``file:line: problem`` so a reviewer can fix the file directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from rules.definitions import (
    ANSWER_VALUES,
    DERIVATION_SOURCES,
    KINDS,
    OUTCOMES,
    Clause,
    Correction,
    Derivation,
    Parameter,
    Question,
    RuleSetFamily,
    RuleSetVersion,
    content_hash_of,
)
from rules.errors import (
    DateBeforeFirstVersionError,
    InvalidDateError,
    NoVersionInForceError,
    PinMismatchError,
    RuleFileProblem,
    RuleSetLoadError,
    UnknownRuleSetError,
    UnknownVersionError,
)

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"
QUESTIONS_FILE = "questions.yaml"
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*$")
CLAUSE_ID_RE = re.compile(r"^(?P<ruleset>[a-z][a-z0-9-]*)\.(?P<kind>[PSXRM])(?P<n>[1-9][0-9]*)$")
TOP_KEYS = {
    "id",
    "version",
    "title",
    "issuer",
    "doc_number",
    "jurisdiction",
    "effective_from",
    "effective_from_approximate",
    "effective_to",
    "supersedes",
    "extends",
    "source",
    "outcomes",
    "outcomes_citation",
    "parameters",
    "notes",
    "example",
    "clauses",
}
REQUIRED_TOP = ("id", "version", "title", "issuer", "jurisdiction", "effective_from", "clauses")
CLAUSE_KEYS = {
    "id",
    "kind",
    "title",
    "text",
    "citation",
    "establish",
    "applies_to",
    "parts",
    "derive",
    "answers",
    "verbatim",
    "corrections",
    "note",
    "example",
    "source",
}
PART_KEYS = CLAUSE_KEYS - {"kind", "applies_to", "parts"}
STATUS_VALUES = ("met", "not_met")


class _Node(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Node:
    result = _Node()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | dt.date) or key is None:
            raise yaml.constructor.ConstructorError(None, None, "键必须是字符串", key_node.start_mark)
        key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"重复的键 {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# YAML 1.2 booleans: only true/false. Rule files write answers as ``yes``/``no`` and mean the words.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str, path: str) -> Any:
    """Parse YAML text; a syntax error becomes a RuleSetLoadError naming file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "YAML 语法错误"
        raise RuleSetLoadError([RuleFileProblem(path, line, f"YAML 语法错误：{problem}")]) from None
    except yaml.YAMLError as exc:
        raise RuleSetLoadError([RuleFileProblem(path, None, f"YAML 语法错误：{exc}")]) from None


@functools.lru_cache(maxsize=8192)
def _iso_date(value: str) -> dt.date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def to_date(value: Any, field: str = "日期") -> dt.date:
    """Accept a date or an ISO ``YYYY-MM-DD`` string; anything else is an InvalidDateError."""
    if type(value) is dt.date:
        return value
    if isinstance(value, str):
        parsed = _iso_date(value)
        if parsed is not None:
            return parsed
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise InvalidDateError(value, field)


class _FileChecker:
    """Validates one parsed rule file and builds its version; collects every problem it sees."""

    def __init__(self, path: str, data: Any, questions: dict[str, Question]) -> None:
        self.path = path
        self.data = data
        self.questions = questions
        self.problems: list[RuleFileProblem] = []

    def problem(self, node: Any, key: str | None, message: str) -> None:
        line = None
        if isinstance(node, _Node):
            line = node.key_lines.get(key, node.line) if key else node.line
        self.problems.append(RuleFileProblem(self.path, line, message))

    def _str(self, node: _Node, key: str, *, required: bool = True, where: str = "") -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, None, f"{where}缺少字段 {key}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(node, key, f"{where}字段 {key} 应为非空文本")
            return None
        return value.strip()

    def _date(self, node: _Node, key: str, *, required: bool) -> dt.date | None:
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

    def header(self) -> dict[str, Any] | None:
        data = self.data
        if not isinstance(data, _Node):
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
        extends = None
        if data.get("extends") is not None:
            raw = data["extends"]
            if not isinstance(raw, str) or "@" not in raw:
                self.problem(data, "extends", 'extends 应写作 "规则集id@版本"，例如 zhejiang@2018')
            else:
                base_id, base_version = raw.split("@", 1)
                extends = (base_id, base_version)
        outcomes = data.get("outcomes", ["exempt", "lighter", "mitigated"])
        if (
            not isinstance(outcomes, list)
            or not outcomes
            or any(o not in OUTCOMES or o == "refused" for o in outcomes)
        ):
            self.problem(data, "outcomes", "outcomes 应为 exempt / lighter / mitigated 中的一项或多项")
            outcomes = ["exempt", "lighter", "mitigated"]
        parameters: dict[str, Parameter] = {}
        raw_params = data.get("parameters")
        if raw_params is None:
            raw_params = _Node()
        elif not isinstance(raw_params, _Node):
            self.problem(data, "parameters", "parameters 应为映射")
            raw_params = _Node()
        for name, spec in raw_params.items():
            if (
                not isinstance(spec, _Node)
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
        doc_number = data.get("doc_number")
        if doc_number is not None and not isinstance(doc_number, str):
            self.problem(data, "doc_number", "doc_number 应为文本或 null")
            doc_number = None
        for flag in ("effective_from_approximate", "example"):
            if flag in data and not isinstance(data[flag], bool):
                self.problem(data, flag, f"{flag} 应为 true 或 false")
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
        }

    def clauses(self, rid: str, parameters: dict[str, Parameter]) -> list[Clause]:
        out: list[Clause] = []
        counters = dict.fromkeys(KINDS, 0)
        for node in self.data["clauses"]:
            if not isinstance(node, _Node):
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
            parts: list[Clause] = []
            raw_parts = node.get("parts")
            if raw_parts is not None:
                if not isinstance(raw_parts, list) or len(raw_parts) < 2:
                    self.problem(node, "parts", f"条款 {cid} 的 parts 应为至少两项的列表")
                else:
                    for i, part_node in enumerate(raw_parts, start=1):
                        if not isinstance(part_node, _Node):
                            self.problem(node, "parts", f"条款 {cid} 的 parts 每一项应为映射")
                            continue
                        for key in part_node:
                            if key not in PART_KEYS:
                                self.problem(part_node, key, f"分项中未知字段 {key}")
                        pid = f"{cid}.{i}"
                        if part_node.get("id") != pid:
                            self.problem(part_node, "id", f"分项编号应为 {pid}，实为 {part_node.get('id')!r}")
                            continue
                        part = self._clause(part_node, pid, kind, rid, parent=cid, parameters=parameters)
                        if part is not None:
                            parts.append(part)
                if clause.derive is not None and parts:
                    self.problem(node, "derive", f"复合条款 {cid} 不能整体派生，请在分项上写 derive")
            if parts:
                clause = _replace(clause, parts=tuple(p.id for p in parts))
            out.append(clause)
            out.extend(parts)
        return out

    def _clause(
        self,
        node: _Node,
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
        citation = (
            self._str(node, "citation", where=where)
            if parent is None
            else (self._str(node, "citation", required=False, where=where) or "")
        )
        if text is None or title is None or citation is None:
            return None
        establish = node.get("establish", "attested")
        derive = None
        if establish not in ("attested", "derived"):
            self.problem(node, "establish", f"{where}establish 应为 attested 或 derived")
            return None
        raw_derive = node.get("derive")
        if establish == "derived" and raw_derive is None:
            self.problem(node, "establish", f"{where}establish: derived 须同时写明 derive（由何数据计算）")
        if raw_derive is not None:
            if establish != "derived":
                self.problem(node, "derive", f"{where}有 derive 的条款须写 establish: derived")
            if not isinstance(raw_derive, _Node) or raw_derive.get("from") not in DERIVATION_SOURCES:
                self.problem(
                    node,
                    "derive",
                    f"{where}derive.from 应为 {'/'.join(DERIVATION_SOURCES)} 之一",
                )
            else:
                if_true = raw_derive.get("if_true")
                if_false = raw_derive.get("if_false")
                for key, value in (("if_true", if_true), ("if_false", if_false)):
                    if value is not None and value not in STATUS_VALUES:
                        self.problem(raw_derive, key, f"{where}derive.{key} 应为 met、not_met 或 null")
                if if_true is None and if_false is None:
                    self.problem(raw_derive, None, f"{where}derive 的 if_true 与 if_false 不能都为空")
                if raw_derive["from"] == "major_loss" and "major_loss_threshold" not in parameters:
                    self.problem(
                        raw_derive, "from", f"{where}由重大损失派生须在 parameters 中设 major_loss_threshold"
                    )
                derive = Derivation(raw_derive["from"], if_true, if_false)
        answers: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        raw_answers = node.get("answers")
        if raw_answers is None:
            raw_answers = _Node()
        elif not isinstance(raw_answers, _Node):
            self.problem(node, "answers", f"{where}answers 应为映射")
            raw_answers = _Node()
        for question, mapping in raw_answers.items():
            if question not in self.questions:
                self.problem(
                    raw_answers, question, f"{where}未知的共同问题 {question}（见 {QUESTIONS_FILE}）"
                )
                continue
            if (
                not isinstance(mapping, _Node)
                or not mapping
                or any(k not in ANSWER_VALUES or v not in STATUS_VALUES for k, v in mapping.items())
            ):
                self.problem(
                    raw_answers, question, f"{where}共同问题 {question} 的映射应为 {{yes|no: met|not_met}}"
                )
                continue
            answers.append((question, tuple(sorted(mapping.items()))))
        corrections: list[Correction] = []
        for c in node.get("corrections") or []:
            if not isinstance(c, _Node) or not c.get("original") or not c.get("corrected"):
                self.problem(node, "corrections", f"{where}corrections 每项须有 original 与 corrected")
                continue
            if str(c["corrected"]) not in text:
                self.problem(c, "corrected", f"{where}更正后的文字 {c['corrected']!r} 不在条文中")
            corrections.append(Correction(str(c["original"]), str(c["corrected"]), str(c.get("note") or "")))
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
            answers=tuple(sorted(answers)),
            verbatim=bool(verbatim),
            corrections=tuple(corrections),
            note=note,
            example=bool(example),
            source=str(node.get("source") or ""),
            line=node.line,
        )


def _replace(clause: Clause, **changes: Any) -> Clause:
    from dataclasses import replace

    return replace(clause, **changes)


def load_questions(directory: Path) -> tuple[dict[str, Question], list[RuleFileProblem]]:
    path = directory / QUESTIONS_FILE
    if not path.exists():
        return {}, []
    rel = _display_path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), rel)
    except RuleSetLoadError as exc:
        return {}, exc.problems
    problems: list[RuleFileProblem] = []
    questions: dict[str, Question] = {}
    items = data.get("questions") if isinstance(data, _Node) else None
    if not isinstance(items, list):
        return {}, [RuleFileProblem(rel, 1, "应有 questions 列表")]
    for item in items:
        if (
            not isinstance(item, _Node)
            or not isinstance(item.get("id"), str)
            or not isinstance(item.get("text"), str)
        ):
            problems.append(RuleFileProblem(rel, getattr(item, "line", None), "每个问题须有 id 与 text"))
            continue
        if item["id"] in questions:
            problems.append(RuleFileProblem(rel, item.line, f"重复的问题 id {item['id']}"))
        questions[item["id"]] = Question(
            item["id"], item["text"].strip(), str(item.get("note") or "").strip()
        )
    return questions, problems


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(RULESETS_DIR.parent.parent))
    except ValueError:
        return str(path)


class Registry:
    """Every rule set and version found in one directory, validated as a whole."""

    def __init__(self, families: dict[str, RuleSetFamily], questions: dict[str, Question]) -> None:
        self._families = families
        self.questions = questions

    def families(self) -> list[RuleSetFamily]:
        return [self._families[k] for k in sorted(self._families)]

    def ids(self) -> list[str]:
        return sorted(self._families)

    def family(self, ruleset_id: str) -> RuleSetFamily:
        try:
            return self._families[ruleset_id]
        except KeyError:
            raise UnknownRuleSetError(ruleset_id) from None

    def version(self, ruleset_id: str, label: str) -> RuleSetVersion:
        found = self.family(ruleset_id).version(label)
        if found is None:
            raise UnknownVersionError(ruleset_id, label)
        return found

    def version_for(self, ruleset_id: str, on_date: dt.date | str) -> RuleSetVersion:
        """The one version in force on ``on_date``; never falls back to the latest."""
        on_date = to_date(on_date)
        family = self.family(ruleset_id)
        first = family.versions[0]
        if on_date < first.effective_from:
            raise DateBeforeFirstVersionError(
                ruleset_id, on_date, first.effective_from, first.supersedes or ""
            )
        found = family.in_force(on_date)
        if found is None:
            raise NoVersionInForceError(ruleset_id, on_date)
        return found

    def pinned(self, ruleset_id: str, label: str, content_hash: str) -> RuleSetVersion:
        """The version a stored evaluation used, refused if its file has changed since."""
        found = self.version(ruleset_id, label)
        if found.content_hash != content_hash:
            raise PinMismatchError(ruleset_id, label, content_hash, found.content_hash)
        return found


def _build_versions(
    files: Iterable[Path], questions: dict[str, Question]
) -> tuple[list[tuple[dict[str, Any], list[Clause], str, _Node]], list[RuleFileProblem]]:
    parsed: list[tuple[dict[str, Any], list[Clause], str, _Node]] = []
    problems: list[RuleFileProblem] = []
    for path in files:
        rel = _display_path(path)
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"), rel)
        except RuleSetLoadError as exc:
            problems.extend(exc.problems)
            continue
        except UnicodeDecodeError:
            problems.append(RuleFileProblem(rel, None, "文件不是 UTF-8 编码"))
            continue
        checker = _FileChecker(rel, data, questions)
        header = checker.header()
        clauses: list[Clause] = []
        if header is not None and header["id"]:
            clauses = checker.clauses(header["id"], header["parameters"])
            if path.stem != f"{header['id']}-{header['version']}" and path.stem != header["id"]:
                checker.problem(
                    data, "id", f"文件名应为 {header['id']}-{header['version']}.yaml（规则集 id 与版本）"
                )
        problems.extend(checker.problems)
        if header is not None and not checker.problems:
            parsed.append((header, clauses, rel, data))
    return parsed, problems


def load_registry(directory: Path | str = RULESETS_DIR) -> Registry:
    """Load and validate every ``*.yaml`` rule file in ``directory``; raise on any problem."""
    directory = Path(directory)
    questions, problems = load_questions(directory)
    files = sorted(p for p in directory.glob("*.yaml") if p.name != QUESTIONS_FILE)
    parsed, more = _build_versions(files, questions)
    problems.extend(more)
    by_label: dict[tuple[str, str], tuple[dict[str, Any], list[Clause], str, _Node]] = {}
    for item in parsed:
        header, _clauses, rel, data = item
        key = (header["id"], header["version"])
        if key in by_label:
            problems.append(
                RuleFileProblem(rel, data.line, f"版本 {key[0]}@{key[1]} 已在 {by_label[key][2]} 中定义")
            )
            continue
        by_label[key] = item

    versions: dict[tuple[str, str], RuleSetVersion] = {}

    def resolve(key: tuple[str, str], chain: tuple[tuple[str, str], ...] = ()) -> RuleSetVersion | None:
        if key in versions:
            return versions[key]
        header, clauses, rel, data = by_label[key]
        base_clauses: list[Clause] = []
        if header["extends"]:
            base_key = header["extends"]
            if base_key in chain or base_key == key:
                problems.append(RuleFileProblem(rel, data.key_lines.get("extends"), "extends 形成循环"))
                return None
            if base_key not in by_label:
                problems.append(
                    RuleFileProblem(
                        rel,
                        data.key_lines.get("extends"),
                        f"extends 指向不存在的版本 {base_key[0]}@{base_key[1]}",
                    )
                )
                return None
            base = resolve(base_key, (*chain, key))
            if base is None:
                return None
            base_clauses = list(base.clauses)
        all_clauses = base_clauses + clauses
        ids = {c.id for c in all_clauses}
        situations = {c.id for c in all_clauses if c.kind == "S" and c.parent is None}
        for c in clauses:
            if c.applies_to is not None and c.applies_to not in situations:
                problems.append(
                    RuleFileProblem(
                        rel, c.line, f"条款 {c.id} 的 applies_to 指向不存在的容错情形 {c.applies_to}"
                    )
                )
                return None
        if len(ids) != len(all_clauses):
            problems.append(RuleFileProblem(rel, data.line, "条款编号重复"))
            return None
        version = RuleSetVersion(clauses=tuple(all_clauses), path=rel, **header)
        versions[key] = version
        return version

    for key in by_label:
        resolve(key)

    families: dict[str, list[RuleSetVersion]] = {}
    for version in versions.values():
        families.setdefault(version.id, []).append(version)
    for rid, items in families.items():
        items.sort(key=lambda v: v.effective_from)
        for earlier, later in zip(items, items[1:], strict=False):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                problems.append(
                    RuleFileProblem(
                        later.path,
                        by_label[(rid, later.version)][3].key_lines.get("effective_from"),
                        f"版本 {later.version} 与 {earlier.path} 的版本 {earlier.version} 施行期间重叠"
                        f"（同一日期只能有一个版本有效）",
                    )
                )
    if problems:
        raise RuleSetLoadError(problems)
    return Registry({rid: RuleSetFamily(rid, items) for rid, items in families.items()}, questions)


def check_directory(directory: Path | str = RULESETS_DIR) -> list[RuleFileProblem]:
    """Every problem in the rule files, or an empty list (used by the system check and the command)."""
    try:
        load_registry(directory)
    except RuleSetLoadError as exc:
        return exc.problems
    return []


_registry: Registry | None = None
_lock = threading.Lock()


def registry() -> Registry:
    """The process-wide registry, parsed once on first use."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = load_registry()
    return _registry


def reset_registry() -> None:
    """Forget the cached registry (tests, or after editing a file in a running shell)."""
    global _registry
    with _lock:
        _registry = None


def version_from_snapshot(snapshot: dict[str, Any], *, expected_hash: str | None = None) -> RuleSetVersion:
    """Rebuild a version from a stored snapshot so an old evaluation can be re-run exactly."""
    actual = content_hash_of(snapshot)
    if expected_hash is not None and actual != expected_hash:
        raise PinMismatchError(snapshot.get("id", "?"), snapshot.get("version", "?"), expected_hash, actual)
    clauses = []
    for c in snapshot["clauses"]:
        derive = c.get("derive")
        clauses.append(
            Clause(
                id=c["id"],
                kind=c["kind"],
                title=c["title"],
                text=c["text"],
                citation=c["citation"],
                establish=c["establish"],
                ruleset=c["ruleset"],
                parent=c["parent"],
                applies_to=c["applies_to"],
                parts=tuple(c["parts"]),
                derive=Derivation(derive["from"], derive["if_true"], derive["if_false"]) if derive else None,
                answers=tuple(sorted((q, tuple(sorted(m.items()))) for q, m in c["answers"].items())),
                verbatim=c["verbatim"],
                corrections=tuple(
                    Correction(x["original"], x["corrected"], x["note"]) for x in c["corrections"]
                ),
                note=c["note"],
                example=c["example"],
                source=c.get("source", ""),
            )
        )
    version = RuleSetVersion(
        id=snapshot["id"],
        version=snapshot["version"],
        title=snapshot["title"],
        issuer=snapshot["issuer"],
        doc_number=snapshot["doc_number"],
        jurisdiction=snapshot["jurisdiction"],
        effective_from=dt.date.fromisoformat(snapshot["effective_from"]),
        effective_to=dt.date.fromisoformat(snapshot["effective_to"]) if snapshot["effective_to"] else None,
        clauses=tuple(clauses),
        effective_from_approximate=snapshot["effective_from_approximate"],
        supersedes=snapshot["supersedes"],
        extends=tuple(snapshot["extends"]) if snapshot["extends"] else None,  # type: ignore[arg-type]
        source=snapshot["source"],
        outcomes=tuple(snapshot["outcomes"]),
        outcomes_citation=snapshot["outcomes_citation"],
        parameters={
            name: Parameter(name, p["value"], p["unit"], p["note"])
            for name, p in snapshot["parameters"].items()
        },
        notes=snapshot["notes"],
        example=snapshot["example"],
        path="(snapshot)",
    )
    if version.content_hash != actual:  # the rebuilt object must hash as the stored data did
        raise PinMismatchError(version.id, version.version, actual, version.content_hash)
    return version
