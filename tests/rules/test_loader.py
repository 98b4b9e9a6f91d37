"""Rule files: validation with file:line messages, versions, extends, diff, caching."""

from __future__ import annotations

import textwrap

import pytest

from rules.diff import diff_versions
from rules.errors import RuleSetLoadError
from rules.loader import check_directory, load_registry, registry

HEADER = """\
id: demo
version: "{version}"
title: 示例
issuer: 示例机关
jurisdiction: 示例地区
effective_from: {start}
{end}
clauses:
"""
CLAUSES = """\
  - id: demo.P1
    kind: P
    title: 条件一
    citation: 第一条
    text: 条件一的原文
  - id: demo.S1
    kind: S
    title: 情形一
    citation: 第二条
    text: {s1}
  - id: demo.X1
    kind: X
    title: 排除一
    citation: 第三条
    text: 排除一的原文
"""


def write(tmp_path, name, version="2020", start="2020-01-01", end="", s1="情形一的原文", clauses=None):
    body = HEADER.format(version=version, start=start, end=end) + (
        clauses if clauses is not None else CLAUSES.format(s1=s1)
    )
    (tmp_path / name).write_text(textwrap.dedent(body), encoding="utf-8")


def problems(tmp_path):
    return [str(p) for p in check_directory(tmp_path)]


def test_shipped_rule_sets_load_and_registry_is_cached():
    assert check_directory() == []
    assert registry() is registry()
    assert registry().ids() == [
        "henan",
        "hohhot",
        "zhangjiagang",
        "zhangjiakou",
        "zhejiang",
        "zhejiang-dept-example",
    ]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "demo-2020.yaml").write_text("id: demo\nversion: [unclosed\ntitle: x\n", encoding="utf-8")
    found = problems(tmp_path)
    assert len(found) == 1
    assert found[0].startswith("demo-2020.yaml:") or "demo-2020.yaml:" in found[0]
    assert "YAML 语法错误" in found[0]


def test_wrong_clause_id_names_file_line_and_expected_id(tmp_path):
    write(tmp_path, "demo-2020.yaml", clauses=CLAUSES.format(s1="x").replace("demo.X1", "demo.X2"))
    found = problems(tmp_path)
    assert any(
        p.endswith(
            "demo-2020.yaml:19: 条款编号应为 demo.X1（<规则集>.<类别><该类别在原文中的序号>），实为 'demo.X2'"
        )
        for p in found
    ), found


def test_unknown_kind_and_missing_text_are_reported(tmp_path):
    bad = CLAUSES.format(s1="x").replace("kind: X", "kind: Q").replace("    text: 条件一的原文\n", "")
    write(tmp_path, "demo-2020.yaml", clauses=bad)
    found = problems(tmp_path)
    assert any("kind 应为 P/S/X/R/M" in p for p in found)
    assert any("缺少字段 text" in p for p in found)


def test_duplicate_key_is_an_error(tmp_path):
    write(
        tmp_path,
        "demo-2020.yaml",
        clauses=CLAUSES.format(s1="x").replace("    title: 条件一\n", "    title: 条件一\n    title: 又一\n"),
    )
    assert any("重复的键 'title'" in p for p in problems(tmp_path))


def test_overlapping_versions_are_a_load_error(tmp_path):
    write(tmp_path, "demo-2020.yaml", version="2020", start="2020-01-01")
    write(tmp_path, "demo-2021.yaml", version="2021", start="2021-01-01")
    found = problems(tmp_path)
    assert any(
        "施行期间重叠" in p and p.startswith("demo-2021.yaml") or "demo-2021.yaml" in p for p in found
    ), found
    with pytest.raises(RuleSetLoadError):
        load_registry(tmp_path)


def test_versions_choose_by_date_and_diff_is_clause_level(tmp_path):
    write(tmp_path, "demo-2020.yaml", version="2020", start="2020-01-01", end="effective_to: 2020-12-31")
    write(tmp_path, "demo-2021.yaml", version="2021", start="2021-01-01", s1="情形一的新原文")
    reg = load_registry(tmp_path)
    assert reg.version_for("demo", "2020-06-01").version == "2020"
    assert reg.version_for("demo", "2021-06-01").version == "2021"
    diff = diff_versions(reg.version("demo", "2020"), reg.version("demo", "2021"))
    changed = diff.changed
    assert [c.clause for c in changed] == ["demo.S1"]
    assert changed[0].fields[0]["old"] == "情形一的原文"
    assert changed[0].fields[0]["new"] == "情形一的新原文"


def test_requirement_must_name_an_existing_situation(tmp_path):
    extra = (
        CLAUSES.format(s1="x")
        + "  - id: demo.R1\n    kind: R\n    title: 要求\n    citation: 第四条\n    applies_to: demo.S9\n    text: 要求原文\n"
    )
    write(tmp_path, "demo-2020.yaml", clauses=extra)
    assert any("applies_to 指向不存在的容错情形 demo.S9" in p for p in problems(tmp_path))


def test_parameter_without_note_is_refused(tmp_path):
    write(tmp_path, "demo-2020.yaml", end="parameters:\n  major_loss_threshold: {value: 100}")
    assert any("须有 note" in p for p in problems(tmp_path))


def test_extends_inherits_base_clauses_with_their_ids():
    version = registry().version_for("zhejiang-dept-example", "2019-01-01")
    ids = [c.id for c in version.clauses]
    assert ids[:7] == [
        "zhejiang.P1",
        "zhejiang.S1",
        "zhejiang.S2",
        "zhejiang.S3",
        "zhejiang.X1",
        "zhejiang.X2",
        "zhejiang.X3",
    ]
    assert "zhejiang-dept-example.R1" in ids
    assert version.requirements_for("zhejiang-dept-example.S1")[0].id == "zhejiang-dept-example.R1"


def test_fixture_versions_differ_in_one_clause_and_the_configured_parameter(testland):
    diff = diff_versions(testland.version("testland", "1"), testland.version("testland", "2"))
    assert [c.clause for c in diff.changed] == ["testland.S2"]
    assert {"effective_from", "effective_to", "parameters"} <= {h["field"] for h in diff.header}


def test_shipped_rule_sets_hold_only_versions_a_policy_document_establishes():
    # One document, one version: a changed configuration value is not a new version.
    assert {f.id: [v.version for v in f.versions] for f in registry().families()} == {
        "henan": ["2017"],
        "hohhot": ["2019"],
        "zhangjiagang": ["2017"],
        "zhangjiakou": ["2019"],
        "zhejiang": ["2018"],
        "zhejiang-dept-example": ["2018"],
    }


def test_system_check_reports_file_line_problems(tmp_path, monkeypatch):
    from rules import checks, loader

    assert checks.check_rulesets() == []
    write(tmp_path, "demo-2020.yaml", clauses=CLAUSES.format(s1="x").replace("kind: S", "kind: Z"))
    monkeypatch.setattr(checks, "check_directory", lambda: loader.check_directory(tmp_path))
    errors = checks.check_rulesets()
    assert errors and errors[0].id == "rules.E001"
    assert "demo-2020.yaml:" in errors[0].msg


def test_governing_earlier_conduct_needs_its_basis_with_file_and_line(tmp_path):
    write(tmp_path, "demo-2020.yaml", end="governs_earlier_conduct: true")
    found = problems(tmp_path)
    assert any("demo-2020.yaml:7: " in p and "governs_earlier_conduct_basis" in p for p in found), found
    write(tmp_path, "demo-2020.yaml", end="governs_earlier_conduct: yes")
    assert any("demo-2020.yaml:7: governs_earlier_conduct 应为 true 或 false" in p for p in problems(tmp_path))


def test_clause_quoted_from_another_document_must_name_it_in_its_citation(tmp_path):
    clauses = CLAUSES.format(s1="情形一的原文").replace(
        "    citation: 第二条\n", "    citation: 第二条\n    source: other-document.txt\n"
    )
    write(tmp_path, "demo-2020.yaml", clauses=clauses)
    found = problems(tmp_path)
    assert any("demo-2020.yaml:14: 条款 demo.S1 引自 other-document.txt" in p for p in found), found
    write(tmp_path, "demo-2020.yaml", clauses=clauses.replace("citation: 第二条", "citation: 某文〔2017〕1号 第二条"))
    assert problems(tmp_path) == []
