"""The provision map: every provision of each policy document and what the system does with it.

One file per document in ``rules/provisions/``. Each entry starts at a verbatim place in the text
(``at``), quotes a short verbatim ``excerpt`` and says exactly one of: ``clause`` (rule-set clause ids),
``procedure`` (the workflow feature that implements it), ``informational`` (preamble, exhortation) or
``not_encoded`` (why not). ``decisive: true`` marks a provision that decides whether or how much to
tolerate; such a provision may not be ``not_encoded``. ``headings`` are the patterns of the
document's own numbering (第X条, (一), 1.; paragraphs for the press reports): every match must start
an entry, so a provision missing from the map is found from the text itself.

``python -m rules.provision_map`` prints the per-document counts table kept in the README.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROVISIONS_DIR = Path(__file__).resolve().parent / "provisions"
SOURCES_DIR = Path(__file__).resolve().parent / "rulesets" / "sources"
HANDLINGS = ("clause", "procedure", "informational", "not_encoded")
HANDLING_LABELS = {
    "clause": "规则条款",
    "procedure": "程序功能",
    "informational": "说明性内容",
    "not_encoded": "未编码",
}
_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_SPACE = re.compile(r"\s+")


def source_text(name: str) -> str:
    """The document as the map reads it: pinyin glosses removed, each line stripped."""
    text = _PINYIN.sub("", (SOURCES_DIR / name).read_text(encoding="utf-8"))
    return "\n".join(line.strip() for line in text.splitlines())


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass
class Provision:
    at: str
    cite: str
    excerpt: str
    handling: str
    detail: Any
    decisive: bool
    note: str = ""
    start: int = -1
    end: int = -1
    text: str = ""  # the provision's own text in the document, from ``at`` to the next entry

    @property
    def clauses(self) -> list[str]:
        return list(self.detail) if self.handling == "clause" else []

    @property
    def label(self) -> str:
        return HANDLING_LABELS[self.handling]


@dataclass
class ProvisionMap:
    key: str
    document: str
    ruleset: list[str]
    title: str
    headings: list[str]
    provisions: list[Provision]
    text: str = ""
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"provisions": len(self.provisions), **dict.fromkeys(HANDLINGS, 0)}
        for p in self.provisions:
            out[p.handling] += 1
        out["decisive"] = sum(p.decisive for p in self.provisions)
        return out


def _parse_entry(raw: dict[str, Any], where: str, problems: list[str]) -> Provision | None:
    kinds = [h for h in HANDLINGS if h in raw]
    if len(kinds) != 1:
        problems.append(f"{where}: 须且只能写 clause / procedure / informational / not_encoded 中的一项")
        return None
    kind = kinds[0]
    detail = raw[kind]
    if kind == "clause":
        if isinstance(detail, str):
            detail = [detail]
        if not isinstance(detail, list) or not detail or not all(isinstance(c, str) for c in detail):
            problems.append(f"{where}: clause 应为条款编号列表")
            return None
    elif not isinstance(detail, str) or not detail.strip():
        problems.append(f"{where}: {kind} 须写明（程序功能或理由）")
        return None
    for key in ("at", "cite", "excerpt"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{where}: 缺少 {key}")
            return None
    unknown = set(raw) - {"at", "cite", "excerpt", "decisive", "note", *HANDLINGS}
    if unknown:
        problems.append(f"{where}: 未知字段 {', '.join(sorted(unknown))}")
    return Provision(
        at=raw["at"], cite=raw["cite"], excerpt=raw["excerpt"], handling=kind, detail=detail,
        decisive=bool(raw.get("decisive", False)),
        note=str(raw.get("note") or ""),
    )


def load_map(path: Path) -> ProvisionMap:
    """Parse one map file and place each entry in the document text; problems are collected."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    ruleset = data.get("ruleset") or []
    pmap = ProvisionMap(
        key=path.stem,
        document=data["document"],
        ruleset=[ruleset] if isinstance(ruleset, str) else list(ruleset),
        title=data["title"],
        headings=list(data.get("headings") or []),
        provisions=[],
        problems=problems,
    )
    for i, raw in enumerate(data.get("provisions") or [], start=1):
        entry = _parse_entry(raw, f"{path.name} 第 {i} 项（{raw.get('cite', '?')}）", problems)
        if entry is not None:
            pmap.provisions.append(entry)
    text = source_text(pmap.document)
    end = data.get("end")  # page furniture after the document (e.g. a site's related links) is not mapped
    if isinstance(end, str) and end in text:
        text = text[: text.find(end)]
    pmap.text = text
    cursor = 0
    for p in pmap.provisions:
        # An entry that starts with a heading starts a line: do not match it quoted inside another line.
        found = -1
        if any(re.match(h, p.at) for h in pmap.headings):
            found = ("\n" + text).find("\n" + p.at, cursor)
        if found < 0:
            found = text.find(p.at, cursor)
        if found < 0:
            problems.append(f"{path.name}: {p.cite} 的起点 {p.at!r} 不在原文中（或顺序不对）")
            continue
        p.start = found
        cursor = found + 1
    placed = [p for p in pmap.provisions if p.start >= 0]
    for p, nxt in zip(placed, [*placed[1:], None], strict=True):
        p.end = nxt.start if nxt is not None else len(text)
        p.text = text[p.start : p.end].strip()
        if squeeze(p.excerpt) not in squeeze(text[p.start : p.end]):
            problems.append(f"{path.name}: {p.cite} 的摘录不在该条原文中：{p.excerpt}")
    starts = {p.start for p in placed}
    first = placed[0].start if placed else 0
    for pattern in pmap.headings:
        for m in re.finditer(pattern, text, flags=re.M):
            if m.start() >= first and m.start() not in starts:
                line = text[m.start() : text.find("\n", m.start())][:40]
                problems.append(f"{path.name}: 原文的条目 “{line}” 不在对照表中")
    return pmap


def all_maps(directory: Path = PROVISIONS_DIR) -> list[ProvisionMap]:
    return [load_map(p) for p in sorted(directory.glob("*.yaml"))]


_maps: list[ProvisionMap] | None = None
_maps_lock = threading.Lock()


def provision_maps() -> list[ProvisionMap]:
    """The shipped maps, read once per process (the files change only with a deployment)."""
    global _maps
    if _maps is None:
        with _maps_lock:
            if _maps is None:
                _maps = all_maps()
    return _maps


TABLE_HEAD = (
    "| document | provisions | encoded (clauses) | procedural | informational | not encoded | decisive |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def counts_table(maps: list[ProvisionMap] | None = None) -> str:
    """The README table: per document, how many provisions and what the system does with them."""
    rows = [TABLE_HEAD]
    for m in maps if maps is not None else all_maps():
        c = m.counts()
        rows.append(
            f"| `{m.document}` | {c['provisions']} | {c['clause']} | {c['procedure']} | "
            f"{c['informational']} | {c['not_encoded']} | {c['decisive']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(counts_table())
