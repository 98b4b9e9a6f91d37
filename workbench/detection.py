"""Articles and numbered items of a policy document, found from their markers (pure, no database).

第X条 and 一、 open an article (level 1), (一)/（一） an item (level 2), 1. / 1、 a sub-item (level 3).
A document without any marker (a news report) is cut into paragraphs, 第N段. The editor corrects what
detection missed on the page; the citation of a span is the labels of the units it lies in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_NUM = "一二三四五六七八九十百零〇两"
MARKERS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"第[{CN_NUM}\d]+条")),
    (1, re.compile(rf"[{CN_NUM}]+、")),
    (2, re.compile(rf"[(（][{CN_NUM}]+[)）]")),
    (3, re.compile(r"\d{1,2}[.．、](?!\d)")),
)
# Where an item marker may begin besides the start of a line: after the end of a sentence or a colon.
ITEM_LEADS = "。；;：:"


@dataclass(frozen=True)
class Unit:
    start: int
    label: str
    level: int


def _marker_at(text: str, pos: int) -> tuple[int, str] | None:
    for level, pattern in MARKERS:
        m = pattern.match(text, pos)
        if m:
            return level, m.group(0).rstrip("、.．").strip()
    return None


def detect_units(text: str) -> list[Unit]:
    """Every article and item with its offset; paragraphs when the document has no markers at all."""
    units: list[Unit] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        lead = offset + len(line) - len(stripped)
        found = _marker_at(text, lead) if stripped.strip() else None
        if found is not None:
            units.append(Unit(lead, found[1], found[0]))
        # (一)-style items inside a paragraph, after a full stop or colon
        for m in re.finditer(rf"(?<=[{ITEM_LEADS}])[(（][{CN_NUM}]+[)）]", line):
            pos = offset + m.start()
            if found is None or pos != lead:
                units.append(Unit(pos, m.group(0), 2))
        offset += len(line)
    if units:
        return units
    offset, n = 0, 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            n += 1
            units.append(Unit(offset + len(line) - len(line.lstrip()), f"第{n}段", 1))
        offset += len(line)
    return units


def citation_for(units: list[Unit], start: int) -> str:
    """The labels of the article and items the offset ``start`` lies in, outermost first (第三条（二）1)."""
    chain: dict[int, Unit] = {}
    for unit in sorted(units, key=lambda u: u.start):
        if unit.start > start:
            break
        chain[unit.level] = unit
        for deeper in [lv for lv in chain if lv > unit.level]:
            del chain[deeper]
    return "".join(chain[level].label for level in sorted(chain))


def unit_ranges(units: list[Unit], length: int) -> list[tuple[Unit, int]]:
    """Each unit with the offset where it ends (the next unit of the same or a higher level)."""
    ordered = sorted(units, key=lambda u: u.start)
    out = []
    for i, unit in enumerate(ordered):
        end = length
        for later in ordered[i + 1:]:
            if later.level <= unit.level:
                end = later.start
                break
        out.append((unit, end))
    return out
