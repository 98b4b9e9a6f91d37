"""``manage.py evaluate_case``: JSON and text output; exit 2 with one line on bad input."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

CHEN = {
    "findings": {f"zhangjiagang.P{i}": "met" for i in range(1, 7)} | {"zhangjiagang.S1": "met"},
    "loss_amount": 0,
    "disposition": None,
}


def run(tmp_path, capsys, payload, *args):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    code = 0
    try:
        call_command("evaluate_case", "--facts", str(path), *args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_has_the_documented_keys(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, CHEN, "--ruleset", "zhangjiagang", "--date", "2017-12-01")
    assert code == 0
    data = json.loads(out)
    assert {"ruleset", "version", "verdict", "outcomes", "decisive", "missing", "trace"} <= set(data)
    assert data["verdict"] == "tolerable"
    assert data["decisive"] == ["zhangjiagang.S1"]
    assert {"clause", "status", "source", "citation", "text"} <= set(data["trace"][0])


def test_text_output_quotes_the_clauses(tmp_path, capsys):
    code, out, _ = run(
        tmp_path, capsys, CHEN, "--ruleset", "zhangjiagang", "--date", "2017-12-01", "--format", "text"
    )
    assert code == 0
    assert "结论：予以容错" in out
    assert "原文：在干事创业过程中出现失误" in out


@pytest.mark.parametrize(
    ("payload", "args", "offender"),
    [
        (CHEN, ["--ruleset", "nowhere", "--date", "2020-01-01"], "nowhere"),
        (
            {"findings": {"zhangjiagang.P9": "met"}},
            ["--ruleset", "zhangjiagang", "--date", "2020-01-01"],
            "zhangjiagang.P9",
        ),
        (
            {"findings": {"zhangjiagang.P1": "maybe"}},
            ["--ruleset", "zhangjiagang", "--date", "2020-01-01"],
            "maybe",
        ),
        (CHEN, ["--ruleset", "zhangjiagang", "--date", "2020/01/01"], "2020/01/01"),
        (CHEN, ["--ruleset", "zhangjiagang", "--date", "2016-01-01"], "2016年1月1日"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, payload, args, offender):
    code, out, err = run(tmp_path, capsys, payload, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and offender in err
