"""The provision map: every provision of the five documents is listed with what the system does with it."""

from __future__ import annotations

from pathlib import Path

import yaml

from rules.loader import registry
from rules.provision_map import PROVISIONS_DIR, SOURCES_DIR, all_maps, counts_table, load_map

ROOT = Path(__file__).resolve().parents[2]
MAPS = all_maps()


def _clause_ids() -> set[str]:
    return {c.id for f in registry().families() for v in f.versions for c in v.clauses}


def test_every_policy_document_has_a_map():
    assert sorted(m.document for m in MAPS) == sorted(p.name for p in SOURCES_DIR.glob("*.txt"))


def test_every_provision_of_the_text_is_in_the_map_with_a_verbatim_excerpt():
    # Each map's headings are the document's own numbering (第X条, (一), 1., or paragraphs of a
    # press report); every one found in the text must start an entry, in order.
    problems = [p for m in MAPS for p in m.problems]
    assert not problems, "\n".join(problems)


def test_mapped_clause_ids_exist_in_the_registry():
    known = _clause_ids()
    unknown = [f"{m.key} {p.cite}: {c}" for m in MAPS for p in m.provisions for c in p.clauses if c not in known]
    assert not unknown, unknown


def test_a_provision_that_decides_tolerance_is_never_left_unencoded():
    offenders = [f"{m.key} {p.cite}" for m in MAPS for p in m.provisions if p.decisive and p.handling == "not_encoded"]
    assert not offenders, "决定是否或如何容错的条文未编码：" + "、".join(offenders)


def test_every_clause_of_a_rule_set_is_traced_back_to_a_provision():
    mapped = {c for m in MAPS for p in m.provisions for c in p.clauses}
    rulesets = {r for m in MAPS for r in m.ruleset}
    orphans = [
        c.id
        for f in registry().families()
        if f.id in rulesets
        for c in f.latest.clauses
        if c.parent is None and c.ruleset == f.id and c.id not in mapped
    ]
    assert not orphans, orphans


def test_a_missing_article_is_found_from_the_text(tmp_path):
    data = yaml.safe_load((PROVISIONS_DIR / "zhangjiakou.yaml").read_text(encoding="utf-8"))
    data["provisions"] = [p for p in data["provisions"] if p["cite"] != "第九条"]
    path = tmp_path / "zhangjiakou.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = load_map(path).problems
    assert any("第九条各级纪检监察机关" in p and "不在对照表中" in p for p in problems), problems


def test_an_unencoded_decisive_provision_is_reported(tmp_path):
    data = yaml.safe_load((PROVISIONS_DIR / "hohhot.yaml").read_text(encoding="utf-8"))
    entry = next(p for p in data["provisions"] if p["cite"] == "二、11.")
    entry.pop("clause")
    entry["not_encoded"] = "（测试）"
    path = tmp_path / "hohhot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pmap = load_map(path)
    assert not pmap.problems
    assert [p.cite for p in pmap.provisions if p.decisive and p.handling == "not_encoded"] == ["二、11."]


def test_readme_rule_set_table_matches_the_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert counts_table(MAPS) in readme, "README 的逐条对照统计表已过时：运行 python -m rules.provision_map 并替换"
