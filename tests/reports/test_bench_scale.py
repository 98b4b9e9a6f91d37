"""``benchmarks/bench_scale.py`` runs against a small generated database and prints a row per endpoint.

This exercises the script (its choice of users, its next-link following, its table); it times nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from benchmarks import bench_scale
from reports.synthetic import cases_generate

pytestmark = pytest.mark.django_db

ENDPOINTS = ["inspector inbox page 1", "inbox, deep page (next links)", "GET /api/cases/ page 1",
             "GET /api/cases/, deep page", "inbox search, 2 characters", "inbox search, 1 character",
             "list search, 1 character", "inbox search, case number", "GET /api/cases/ (orgdept)",
             "organisation department home (its list, overdue first)", "waiting consultation requests (orgdept)",
             "filing register page (orgdept)", "GET /api/filings/ (orgdept)", "committee queue", "case page",
             "GET /api/cases/{id}/", "dashboard /insight/ (committee)"]


def test_every_endpoint_gets_a_row_with_its_queries_and_times():
    cases_generate(count=40, seed=3, end=dt.date(2026, 6, 30), batch=100)
    out, js = io.StringIO(), io.StringIO()
    rows = bench_scale.run(runs=2, warmup=0, pages=2, out=out, json_out=js)
    text = out.getvalue()
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(table) == len(ENDPOINTS)
    for label, line in zip(ENDPOINTS, table, strict=True):
        assert line.startswith(f"| {label}"), line
    assert all(r.queries > 0 and 0 < r.p50 <= r.p95 and r.runs == 2 for r in rows)
    # The case number searched for is one the inspector may see, and it is found.
    number = next(r for r in rows if r.endpoint.startswith("inbox search, case number"))
    assert number.note == "找到"
    data = json.loads(js.getvalue())
    assert data["cases"] == 40 and [r["endpoint"] for r in data["rows"]] == [r.endpoint for r in rows]


def test_next_links_are_found_in_pages_and_api_answers():
    class Answer:
        def __init__(self, content: str, content_type: str) -> None:
            self.content = content.encode()
            self._type = content_type

        def get(self, key: str, default: str = "") -> str:
            return self._type if key == "Content-Type" else default

    html = '<a href="?page=1">上一页</a> <a class="btn" href="?q=%E7%8E%8B&amp;after=abc">下一页</a>'
    assert bench_scale.next_link(Answer(html, "text/html"), "/?q=x") == "/?q=%E7%8E%8B&after=abc"
    rel = '<link rel="next" href="/cases/?after=zz"><a href="?page=9">下一页</a>'
    assert bench_scale.next_link(Answer(rel, "text/html"), "/") == "/cases/?after=zz"
    assert bench_scale.next_link(Answer("<p>末页</p>", "text/html"), "/") is None
    api = json.dumps({"next": "http://127.0.0.1/api/cases/?cursor=cD0y", "results": []})
    assert bench_scale.next_link(Answer(api, "application/json"), "/api/cases/") == "/api/cases/?cursor=cD0y"
    assert bench_scale.next_link(Answer('{"next": null}', "application/json"), "/api/cases/") is None
