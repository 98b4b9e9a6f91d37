"""A draft rule set as the YAML the shipped rule sets use, and back (pure, no database).

``to_yaml`` numbers the clauses (``<id>.<K><n>`` in list order per kind, parts ``<clause>.<n>``) and
writes the header and clauses; ``from_yaml`` checks a rule file with the loader's own checks and returns
its header and clauses as plain data, so an exported file loads to the same content hash.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from rules.definitions import KINDS, Question
from rules.errors import RuleFileProblem, RuleSetLoadError
from rules.filecheck import FileChecker
from rules.registry import RULESETS_DIR, PublishedText, Registry, load_questions, load_registry
from rules.yamlread import Node, parse_yaml

HEADER_ORDER = (
    "id", "version", "title", "issuer", "doc_number", "jurisdiction", "effective_from",
    "effective_from_approximate", "effective_to", "supersedes", "extends", "source", "outcomes",
    "outcomes_citation", "default_rules", "governs_earlier_conduct", "governs_earlier_conduct_basis",
    "parameters", "notes", "example",
)
CLAUSE_ORDER = (
    "kind", "title", "citation", "establish", "applies_to", "text", "combine", "parts", "derive", "answers",
    "verbatim", "corrections", "note", "example", "source",
)


def plain(value: Any) -> Any:
    """Nodes to dicts, recursively (for dumping and for JSON fields)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """As ``plain``, with dates as ISO strings (for JSON fields)."""
    value = plain(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


DATE_KEYS = ("effective_from", "effective_to")


def clause_ids(rid: str, clauses: list[dict[str, Any]]) -> list[str]:
    """The id each top-level clause gets: its kind's count in list order."""
    counters = dict.fromkeys(KINDS, 0)
    ids = []
    for c in clauses:
        counters[c["kind"]] += 1
        ids.append(f"{rid}.{c['kind']}{counters[c['kind']]}")
    return ids


def to_document(header: dict[str, Any], clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule file as plain data. Each clause: its fields, ``applies_to`` as the index of its situation
    in ``clauses``, ``parts`` as a list of part dicts (without ids)."""
    rid = header["id"]
    ids = clause_ids(rid, clauses)
    doc: dict[str, Any] = {}
    for key in HEADER_ORDER:
        if key in header and header[key] is not None or key in ("doc_number",) and key in header:
            value = header[key]
            if key in DATE_KEYS and isinstance(value, str):
                value = dt.date.fromisoformat(value)
            doc[key] = value
    for key, value in header.items():  # anything else the file had keeps its place at the end
        if key not in doc and key not in HEADER_ORDER and key != "clauses":
            doc[key] = value
    out = []
    for cid, c in zip(ids, clauses, strict=True):
        item: dict[str, Any] = {"id": cid}
        for key in CLAUSE_ORDER:
            if key not in c or c[key] is None:
                continue
            if key == "applies_to":
                item[key] = ids[c[key]]
            elif key == "parts":
                if not c[key]:
                    continue
                item[key] = [
                    {"id": f"{cid}.{n}", **{k: v for k, v in part.items() if k != "id"}}
                    for n, part in enumerate(c[key], start=1)
                ]
            else:
                item[key] = c[key]
        out.append(item)
    doc["clauses"] = out
    return doc


def to_yaml(header: dict[str, Any], clauses: list[dict[str, Any]], *, comment: str = "") -> str:
    text = yaml.safe_dump(plain(to_document(header, clauses)), allow_unicode=True, sort_keys=False, width=1000)
    if comment:
        text = "".join(f"# {line}\n" for line in comment.splitlines()) + text
    return text


def check_text(text: str, name: str, questions: dict[str, Question] | None = None) -> Node:
    """The parsed file, or RuleSetLoadError listing every problem the loader's file checks find."""
    if questions is None:
        questions, _ = load_questions(RULESETS_DIR)
    data = parse_yaml(text, name)
    checker = FileChecker(name, data, questions)
    header = checker.header()
    if header is not None and header["id"]:
        checker.clauses(header["id"], header["parameters"], header.get("default_rules") or {})
    if checker.problems:
        raise RuleSetLoadError(checker.problems)
    return data


def from_yaml(text: str, name: str = "导入文件") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and clauses of a rule file (checked), as ``to_yaml`` takes them."""
    data = check_text(text, name)
    header = {k: plain(v) for k, v in data.items() if k != "clauses"}
    rid = header["id"]
    nodes = list(data["clauses"])
    index = {node["id"]: i for i, node in enumerate(nodes)}
    clauses = []
    for node in nodes:
        c = {k: plain(v) for k, v in node.items() if k != "id"}
        if "applies_to" in c:
            if c["applies_to"] not in index:
                raise RuleSetLoadError([RuleFileProblem(name, node.line, f"applies_to 指向本文件之外的条款 {c['applies_to']}")])
            c["applies_to"] = index[c["applies_to"]]
        if "parts" in c:
            c["parts"] = [{k: v for k, v in part.items() if k != "id"} for part in c["parts"]]
        clauses.append(c)
    del rid
    return header, clauses


def registry_with(draft: PublishedText, published: list[PublishedText]) -> Registry:
    """The registry of the shipped files and the published versions with ``draft`` added: the draft is
    checked with every cross-file check (duplicate label, ``extends``, overlapping periods)."""
    return load_registry(RULESETS_DIR, published=[*published, draft])
