"""The registry: every rule set and version in ``rules/rulesets/``, validated as a whole, parsed once.

Owns reading the directory (files and the common-questions file), the checks across files
(duplicate versions, ``extends``, overlapping dates), the lookups by id, version, date and pin,
and the process-wide cached ``registry()``. One file's schema is ``rules.filecheck``'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rules.dates import to_date
from rules.definitions import Clause, Question, RuleSetFamily, RuleSetVersion
from rules.errors import (
    DateBeforeFirstVersionError,
    NoVersionInForceError,
    PinMismatchError,
    RuleFileProblem,
    RuleSetLoadError,
    UnknownRuleSetError,
    UnknownVersionError,
)
from rules.filecheck import QUESTIONS_FILE, FileChecker
from rules.yamlread import Node, parse_yaml

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"

# One checked file: its header fields, its own clauses, its display path and its parsed root.
_Parsed = tuple[dict[str, Any], list[Clause], str, Node]
_Key = tuple[str, str]


class Registry:
    """Every rule set and version found in one directory, validated as a whole."""

    def __init__(self, families: dict[str, RuleSetFamily], questions: dict[str, Question]) -> None:
        self._families = families
        self.questions = questions

    def families(self) -> list[RuleSetFamily]:
        """All rule sets, ordered by id."""
        return [self._families[k] for k in sorted(self._families)]

    def ids(self) -> list[str]:
        """The ids of all rule sets, sorted."""
        return sorted(self._families)

    def family(self, ruleset_id: str) -> RuleSetFamily:
        """One rule set with all its versions; UnknownRuleSetError if there is none."""
        try:
            return self._families[ruleset_id]
        except KeyError:
            raise UnknownRuleSetError(ruleset_id) from None

    def version(self, ruleset_id: str, label: str) -> RuleSetVersion:
        """One version by its label; UnknownVersionError if there is none."""
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
                ruleset_id, on_date, first.effective_from, first.supersedes or "", title=first.title
            )
        found = family.in_force(on_date)
        if found is None:
            raise NoVersionInForceError(ruleset_id, on_date, title=first.title)
        return found

    def version_applying(
        self, ruleset_id: str, conduct: dt.date | str, decision: dt.date | str | None = None
    ) -> tuple[RuleSetVersion, bool]:
        """The version whose clauses apply to conduct on ``conduct``, and whether it applies as one
        that governs conduct before the first version (then: the version in force on ``decision``,
        if it declares ``governs_earlier_conduct``). Otherwise the same refusals as ``version_for``."""
        conduct = to_date(conduct)
        family = self.family(ruleset_id)
        first = family.versions[0]
        if conduct >= first.effective_from:
            found = family.in_force(conduct)
            if found is None:
                raise NoVersionInForceError(ruleset_id, conduct, title=first.title)
            return found, False
        current = family.in_force(to_date(decision)) if decision is not None else None
        if current is not None and current.governs_earlier_conduct:
            return current, True
        if decision is None and any(v.governs_earlier_conduct for v in family.versions):
            raise DateBeforeFirstVersionError(
                ruleset_id, conduct, first.effective_from, "该规则集适用于施行前的行为，须给出决定日期以确定适用的版本",
                title=first.title,
            )
        # A predecessor the documents name but whose text is not held stays an error naming it.
        raise DateBeforeFirstVersionError(ruleset_id, conduct, first.effective_from, first.supersedes or "",
                                          title=first.title)

    def pinned(self, ruleset_id: str, label: str, content_hash: str) -> RuleSetVersion:
        """The version a stored evaluation used, refused if its file has changed since."""
        found = self.version(ruleset_id, label)
        if found.content_hash != content_hash:
            raise PinMismatchError(ruleset_id, label, content_hash, found.content_hash)
        return found


def display_path(path: Path) -> str:
    """The path as problems show it: relative to the project root when it lies inside it."""
    try:
        return str(path.relative_to(RULESETS_DIR.parent.parent))
    except ValueError:
        return str(path)


def load_questions(directory: Path) -> tuple[dict[str, Question], list[RuleFileProblem]]:
    """The common questions of ``questions.yaml`` (none if the file is absent) and its problems."""
    path = directory / QUESTIONS_FILE
    if not path.exists():
        return {}, []
    rel = display_path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), rel)
    except RuleSetLoadError as exc:
        return {}, exc.problems
    problems: list[RuleFileProblem] = []
    questions: dict[str, Question] = {}
    items = data.get("questions") if isinstance(data, Node) else None
    if not isinstance(items, list):
        return {}, [RuleFileProblem(rel, 1, "应有 questions 列表")]
    for item in items:
        if (
            not isinstance(item, Node)
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


@dataclass(frozen=True)
class PublishedText:
    """A rule-set version held outside the directory (published in the workbench): its YAML text, the
    content hash it was published with, and the label of the version of the same rule set it replaces."""

    name: str
    text: str
    content_hash: str = ""
    replaces: str = ""


def _read(path: Path) -> tuple[str, str | None, str]:
    rel = display_path(path)
    try:
        return rel, path.read_text(encoding="utf-8"), path.stem
    except UnicodeDecodeError:
        return rel, None, path.stem


def _check_files(
    files: Iterable[tuple[str, str | None, str]], questions: dict[str, Question]
) -> tuple[list[_Parsed], list[RuleFileProblem]]:
    """Check each file (display name, text, stem) on its own; keep only the files without problems."""
    parsed: list[_Parsed] = []
    problems: list[RuleFileProblem] = []
    question_key = tuple(sorted(questions))
    for rel, text, stem in files:
        if text is None:
            problems.append(RuleFileProblem(rel, None, "文件不是 UTF-8 编码"))
            continue
        cache_key = (rel, text, stem, question_key)
        if cache_key in _checked_cache:  # the workbench reloads the directory with each draft it checks
            parsed.append(_checked_cache[cache_key])
            continue
        try:
            data = parse_yaml(text, rel)
        except RuleSetLoadError as exc:
            problems.extend(exc.problems)
            continue
        checker = FileChecker(rel, data, questions)
        header = checker.header()
        clauses: list[Clause] = []
        # Not a version field: the clauses carry it, so a version that extends this one inherits it.
        default_rules = header.pop("default_rules") if header is not None else {}
        if header is not None and header["id"]:
            clauses = checker.clauses(header["id"], header["parameters"], default_rules)
            checker.check_borrowed_citations(clauses, header["source"])
            if stem != f"{header['id']}-{header['version']}" and stem != header["id"]:
                checker.problem(
                    data, "id", f"文件名应为 {header['id']}-{header['version']}.yaml（规则集 id 与版本）"
                )
        problems.extend(checker.problems)
        if header is not None and not checker.problems:
            parsed.append((header, clauses, rel, data))
            if len(_checked_cache) >= 256:
                _checked_cache.clear()
            _checked_cache[cache_key] = parsed[-1]
    return parsed, problems


# Files already checked without problems, by (name, text, stem, questions): checking is pure, so the same
# text checks the same. Nothing downstream changes a parsed item (versions are built anew from it).
_checked_cache: dict[tuple[str, str, str, tuple[str, ...]], _Parsed] = {}


def _index_by_label(parsed: list[_Parsed], problems: list[RuleFileProblem]) -> dict[_Key, _Parsed]:
    """The checked files by (id, version); a second file with the same label is a problem."""
    by_label: dict[_Key, _Parsed] = {}
    for item in parsed:
        header, _clauses, rel, data = item
        key = (header["id"], header["version"])
        if key in by_label:
            problems.append(
                RuleFileProblem(rel, data.line, f"版本 {key[0]}@{key[1]} 已在 {by_label[key][2]} 中定义")
            )
            continue
        by_label[key] = item
    return by_label


class _Resolver:
    """Builds each version with the clauses of the version it ``extends`` (Zhejiang 1+X)."""

    def __init__(self, by_label: dict[_Key, _Parsed], problems: list[RuleFileProblem]) -> None:
        self.by_label = by_label
        self.problems = problems
        self.versions: dict[_Key, RuleSetVersion] = {}

    def resolve(self, key: _Key, chain: tuple[_Key, ...] = ()) -> RuleSetVersion | None:
        """The version for ``key`` with its base's clauses first; ``None`` after recording a problem."""
        if key in self.versions:
            return self.versions[key]
        header, clauses, rel, data = self.by_label[key]
        base_clauses: list[Clause] = []
        if header["extends"]:
            base = self._base(header["extends"], key, chain, rel, data)
            if base is None:
                return None
            base_clauses = list(base.clauses)
        all_clauses = base_clauses + clauses
        situations = {c.id for c in all_clauses if c.kind == "S" and c.parent is None}
        for c in clauses:
            if c.applies_to is not None and c.applies_to not in situations:
                self.problems.append(
                    RuleFileProblem(
                        rel, c.line, f"条款 {c.id} 的 applies_to 指向不存在的容错情形 {c.applies_to}"
                    )
                )
                return None
        if len({c.id for c in all_clauses}) != len(all_clauses):
            self.problems.append(RuleFileProblem(rel, data.line, "条款编号重复"))
            return None
        version = RuleSetVersion(clauses=tuple(all_clauses), path=rel, **header)
        self.versions[key] = version
        return version

    def _base(
        self, base_key: _Key, key: _Key, chain: tuple[_Key, ...], rel: str, data: Node
    ) -> RuleSetVersion | None:
        line = data.key_lines.get("extends")
        if base_key in chain or base_key == key:
            self.problems.append(RuleFileProblem(rel, line, "extends 形成循环"))
            return None
        if base_key not in self.by_label:
            self.problems.append(
                RuleFileProblem(rel, line, f"extends 指向不存在的版本 {base_key[0]}@{base_key[1]}")
            )
            return None
        return self.resolve(base_key, (*chain, key))


def _families(
    versions: Iterable[RuleSetVersion], by_label: dict[_Key, _Parsed], problems: list[RuleFileProblem]
) -> dict[str, list[RuleSetVersion]]:
    """Versions grouped by rule set in date order; overlapping periods are problems."""
    families: dict[str, list[RuleSetVersion]] = {}
    for version in versions:
        families.setdefault(version.id, []).append(version)
    for rid, items in families.items():
        items.sort(key=lambda v: v.effective_from)
        # One date, one version: otherwise "the version in force" would be ambiguous.
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
    return families


def _close_replaced(
    versions: dict[_Key, RuleSetVersion], published: Iterable[PublishedText], by_label: dict[_Key, _Parsed],
    problems: list[RuleFileProblem],
) -> None:
    """A published version that replaces an earlier one ends the earlier one's period the day before it
    takes effect (cases decided under the earlier one keep their pinned snapshot)."""
    for item in published:
        if not item.replaces:
            continue
        new = next((v for v in versions.values() if v.path == item.name), None)
        if new is None:
            continue
        old_key = (new.id, item.replaces)
        old = versions.get(old_key)
        if old is None:
            problems.append(RuleFileProblem(item.name, None, f"所替代的版本 {new.id}@{item.replaces} 不存在"))
            continue
        if new.effective_from <= old.effective_from:
            problems.append(RuleFileProblem(
                item.name, None, f"施行日期 {new.effective_from} 不晚于所替代版本的施行日期 {old.effective_from}"))
            continue
        end = new.effective_from - dt.timedelta(days=1)
        if old.effective_to is None or old.effective_to > end:
            versions[old_key] = dataclasses.replace(old, effective_to=end, content_hash="")


def load_registry(directory: Path | str = RULESETS_DIR, published: Iterable[PublishedText] = ()) -> Registry:
    """Load and validate every ``*.yaml`` rule file in ``directory`` together with the ``published``
    versions (the workbench's); raise on any problem."""
    directory = Path(directory)
    published = list(published)
    questions, problems = load_questions(directory)
    files = [_read(p) for p in sorted(directory.glob("*.yaml")) if p.name != QUESTIONS_FILE]
    files += [(item.name, item.text, item.name.rsplit("/", 1)[-1]) for item in published]
    parsed, more = _check_files(files, questions)
    problems.extend(more)
    by_label = _index_by_label(parsed, problems)
    resolver = _Resolver(by_label, problems)
    for key in by_label:
        resolver.resolve(key)
    for item in published:
        version = next((v for v in resolver.versions.values() if v.path == item.name), None)
        if version is not None and item.content_hash and version.content_hash != item.content_hash:
            problems.append(RuleFileProblem(
                item.name, None, f"内容摘要与发布时不一致（{version.content_hash[:19]}，发布时 {item.content_hash[:19]}）"))
    _close_replaced(resolver.versions, published, by_label, problems)
    families = _families(resolver.versions.values(), by_label, problems)
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


class PublishedSource(Protocol):
    """Where versions published outside the directory come from (installed by the workbench app)."""

    def stamp(self) -> object:
        """Changes whenever a version is published; cheap to ask."""

    def texts(self) -> list[PublishedText]:
        """Every published version."""


_registry: Registry | None = None
_registry_stamp: object = None
_checked_at = 0.0
_source: PublishedSource | None = None
_lock = threading.Lock()
# How often another process's publication is looked for; a publication in this process resets at once.
STAMP_INTERVAL_SECONDS = 5.0


def install_published_source(source: PublishedSource | None) -> None:
    """Serve the rule sets of ``source`` beside the files from now on (``None``: files only)."""
    global _source
    with _lock:
        _source = source
    reset_registry()


def reset_registry() -> None:
    """Forget the parsed registry: the next ``registry()`` reads files and published versions again."""
    global _registry, _registry_stamp, _checked_at
    with _lock:
        _registry, _registry_stamp, _checked_at = None, None, 0.0


def registry() -> Registry:
    """The process-wide registry, parsed once on first use and again after a publication."""
    global _registry, _registry_stamp, _checked_at
    source = _source
    if source is not None and _registry is not None and time.monotonic() - _checked_at > STAMP_INTERVAL_SECONDS:
        _checked_at = time.monotonic()
        if source.stamp() != _registry_stamp:
            reset_registry()
    if _registry is None:
        with _lock:
            if _registry is None:  # another thread may have loaded it while this one waited
                if source is None:
                    _registry = load_registry()
                else:
                    _registry_stamp = source.stamp()
                    _registry = load_registry(published=source.texts())
                _checked_at = time.monotonic()
    return _registry

