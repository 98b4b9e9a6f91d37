"""Server time and query count of the pages and API calls used every day, on a generated database.

Not a timed test: a script to run against a database filled by ``manage.py generate_cases`` (or the demo
data) to see how each list behaves as the case table grows. It picks real users from the data — an
inspector of the busiest discipline commission, a member of that commission's committee, an officer of
the committee's organisation department — warms each endpoint up, then requests it ``--runs`` times
in-process through Django's test client (server time: no network, no gunicorn), counting the queries of
each request, and prints a markdown table (endpoint, queries, p50, p95).

Deep pages are reached by following the list's own "next" link several times (``rel="next"`` or a
"下一页" link in a page, ``next`` in an API answer), so the script keeps working whether a list pages
by number or by keyset cursor.

Run::

    python manage.py generate_cases --count 10000          # into the database DATABASE_URL names
    python benchmarks/bench_scale.py --database-url postgres://postgres@127.0.0.1:5432/tol_10k [--runs 30]

``--json FILE`` also writes the figures as JSON (``-`` for standard output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
NEXT_TEXTS = ("下一页", "下页", "next", "›", "»")


class BenchError(Exception):
    """The data or an answer does not allow the benchmark to run (one line, in Chinese)."""


@dataclass
class Row:
    endpoint: str
    path: str
    queries: int
    p50: float
    p95: float
    runs: int
    note: str = ""
    times: list[float] = field(default_factory=list, repr=False)


class _NextLink(HTMLParser):
    """The first ``rel="next"`` link of a page, else the first link whose text reads "下一页"/"next"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rel_next: str | None = None
        self.text_next: str | None = None
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag in ("a", "link") and "next" in a.get("rel", "").lower().split() and a.get("href"):
            self.rel_next = self.rel_next or a["href"]
        if tag == "a" and a.get("href"):
            self._href, self._text = a["href"], []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            text = "".join(self._text).strip().lower()
            if self.text_next is None and any(t in text for t in NEXT_TEXTS) and "上" not in text:
                self.text_next = self._href
            self._href = None


def next_link(response: Any, current: str) -> str | None:
    """The path of the next page the answer links to, or None on the last page."""
    content_type = response.get("Content-Type", "")
    href: str | None
    if "json" in content_type:
        href = json.loads(response.content).get("next")
    else:
        parser = _NextLink()
        parser.feed(response.content.decode("utf-8", errors="replace"))
        href = parser.rel_next or parser.text_next
    if not href:
        return None
    absolute = urljoin(f"http://{HOST}{current}", href)
    parts = urlsplit(absolute)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


@dataclass
class Subjects:
    """Who and what the benchmark asks about, drawn from the data."""

    inspector: Any
    committee: Any
    orgdept: Any
    case_id: int
    case_number: str
    name_query: str
    org_name: str


def subjects_pick() -> Subjects:
    """The busiest accountability organisation with an inspector, and the people and cases around it."""
    from django.db.models import Count

    from accounts.models import Membership, Role
    from cases.models import Case

    busiest = (Case.objects.filter(accountability_org__memberships__role=Role.INSPECTOR)
               .values("accountability_org").annotate(n=Count("id", distinct=True)).order_by("-n")[:1])
    if not busiest:
        raise BenchError("数据库中没有由纪检监察部门（有 inspector 岗位）负责的案件：请先运行 "
                         "manage.py generate_cases --count N 或 seed_demo。")
    org_id = busiest[0]["accountability_org"]

    def member(role: str, **where: Any) -> Any:
        m = (Membership.objects.filter(role=role, user__is_active=True, **where)
             .select_related("user", "organisation").order_by("id").first())
        return m.user if m else None

    inspector = member(Role.INSPECTOR, organisation_id=org_id)
    from accounts.models import Organisation

    org = Organisation.objects.get(pk=org_id)
    committee_org = org.managing_committee_id or org.parent_id
    committee = (member(Role.COMMITTEE, organisation_id=committee_org) if committee_org else None) \
        or member(Role.COMMITTEE)
    orgdept = (member(Role.ORGDEPT, organisation__parent_id=committee_org) if committee_org else None) \
        or member(Role.ORGDEPT)
    if committee is None or orgdept is None:
        raise BenchError("数据中缺少党委（committee）或组织部（orgdept）岗位的用户，无法测委员会队列和备案登记簿。")
    case = (Case.objects.filter(accountability_org_id=org_id).exclude(reference__isnull=True)
            .exclude(reference="").select_related("subject").order_by("-created_at", "-id")
            .first())
    if case is None:
        raise BenchError(f"{org.name} 的案件都没有案件编号（reference）：请先补齐编号。")
    # A two-character query, as most names are searched by (a surname and a given name's first character).
    names = Case.objects.filter(accountability_org_id=org_id).values_list("subject__name", flat=True)[:50]
    two = next((n[:2] for n in names if len(n) >= 2), case.subject.name[:2])
    return Subjects(inspector=inspector, committee=committee, orgdept=orgdept, case_id=case.pk,
                    case_number=case.reference, name_query=two, org_name=org.name)


def run(*, runs: int = 20, warmup: int = 3, pages: int = 5, out: TextIO | None = None,
        json_out: TextIO | None = None) -> list[Row]:
    """Time every endpoint; prints the table to ``out`` (standard output by default). Django is set up."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cases.models import Case

    out = out or sys.stdout
    s = subjects_pick()
    clients: dict[int, Client] = {}

    def client_for(user: Any) -> Client:
        if user.pk not in clients:
            c = Client(SERVER_NAME=HOST)
            c.force_login(user)
            clients[user.pk] = c
        return clients[user.pk]

    def get(user: Any, path: str) -> Any:
        response = client_for(user).get(path, SERVER_NAME=HOST)
        if response.status_code != 200:
            raise BenchError(f"{user.username} 请求 {path} 得到 {response.status_code}（应为 200）：无法计时。")
        return response

    def deep(user: Any, path: str) -> tuple[str, str]:
        """The page reached by following next links ``pages`` times (fewer when the list ends)."""
        current, followed = path, 0
        for _ in range(pages):
            nxt = next_link(get(user, current), current)
            if nxt is None:
                break
            current, followed = nxt, followed + 1
        return current, f"第 {followed + 1} 页" + ("（已到末页）" if followed < pages else "")

    def found(text: str) -> Callable[[Any], str]:
        def check(response: Any) -> str:
            return "找到" if text in response.content.decode("utf-8", errors="replace") else "未找到"
        return check

    inbox_deep, inbox_deep_note = deep(s.inspector, "/")
    api_deep, api_deep_note = deep(s.inspector, "/api/cases/")
    plan: list[tuple[str, Any, str, Callable[[Any], str] | None, str]] = [
        ("inspector inbox page 1", s.inspector, "/", None, ""),
        ("inbox, deep page (next links)", s.inspector, inbox_deep, None, inbox_deep_note),
        ("GET /api/cases/ page 1", s.inspector, "/api/cases/", None, ""),
        ("GET /api/cases/, deep page", s.inspector, api_deep, None, api_deep_note),
        (f"inbox search, 2 characters ({s.name_query})", s.inspector, f"/?q={s.name_query}", None, ""),
        (f"inbox search, 1 character ({s.name_query[:1]})", s.inspector, f"/?q={s.name_query[:1]}", None, ""),
        (f"list search, 1 character ({s.name_query[:1]}, orgdept)", s.orgdept, f"/?q={s.name_query[:1]}", None, ""),
        (f"inbox search, case number ({s.case_number})", s.inspector, f"/?q={s.case_number}",
         found(s.case_number), ""),
        ("GET /api/cases/ (orgdept)", s.orgdept, "/api/cases/", None, ""),
        ("organisation department home (its list, overdue first)", s.orgdept, "/", None, ""),
        ("waiting consultation requests (orgdept)", s.orgdept, "/consultations/waiting/", None, ""),
        ("filing register page (orgdept)", s.orgdept, "/filings/", None, ""),
        ("GET /api/filings/ (orgdept)", s.orgdept, "/api/filings/", None, ""),
        ("committee queue", s.committee, "/", None, ""),
        ("case page", s.inspector, f"/cases/{s.case_id}/", None, ""),
        ("GET /api/cases/{id}/", s.inspector, f"/api/cases/{s.case_id}/", None, ""),
        ("dashboard /insight/ (committee)", s.committee, "/insight/", None, ""),
    ]
    print(f"cases: {Case.objects.count():,}  database: {connection.vendor}  busiest: {s.org_name}  "
          f"inspector {s.inspector.username} · committee {s.committee.username} · orgdept {s.orgdept.username}",
          file=out)
    rows: list[Row] = []
    for label, user, path, check, note in plan:
        for _ in range(warmup):
            get(user, path)
        times: list[float] = []
        counts: list[int] = []
        response = None
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = get(user, path)
                times.append((time.perf_counter() - started) * 1000)
            counts.append(len(ctx.captured_queries))
        # The usual count: now and then a request also refreshes the session's idle clock (3 more queries).
        queries = max(Counter(counts).items(), key=lambda kv: (kv[1], -kv[0]))[0]  # on a tie, the fewer
        if check is not None and response is not None:
            note = " ".join(filter(None, [note, check(response)]))
        rows.append(Row(label, path, queries, _percentile(times, 50), _percentile(times, 95), runs, note, times))

    print("\n| endpoint (server time, ms) | queries | p50 | p95 | note |\n|---|---|---|---|---|", file=out)
    for r in rows:
        print(f"| {r.endpoint} | {r.queries} | {r.p50:.1f} | {r.p95:.1f} | {r.note} |", file=out)
    if json_out is not None:
        json.dump({"cases": Case.objects.count(), "database": connection.vendor, "runs": runs,
                   "rows": [{k: v for k, v in asdict(r).items() if k != "times"} for r in rows]},
                  json_out, ensure_ascii=False, indent=2)
        json_out.write("\n")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="数据库地址（默认取环境变量 DATABASE_URL）")
    parser.add_argument("--runs", type=int, default=20, help="每个端点计时的请求数（默认 20）")
    parser.add_argument("--warmup", type=int, default=3, help="计时前的预热请求数（默认 3）")
    parser.add_argument("--pages", type=int, default=5, help="“深页”沿下一页链接走的页数（默认 5）")
    parser.add_argument("--json", default="", help="另把结果写成 JSON 到此文件（- 为标准输出）")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.pages < 0:
        parser.error("--runs 至少为 1，--warmup 和 --pages 不能为负数")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.db import DatabaseError

    from config.preflight import service_problems

    for problem in service_problems():
        print(f"bench_scale：{problem}", file=sys.stderr)
        return 1
    try:
        if args.json == "-":
            # The JSON alone on standard output, so it can be piped; the table goes to standard error.
            run(runs=args.runs, warmup=args.warmup, pages=args.pages, out=sys.stderr, json_out=sys.stdout)
        elif args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                run(runs=args.runs, warmup=args.warmup, pages=args.pages, json_out=fh)
        else:
            run(runs=args.runs, warmup=args.warmup, pages=args.pages)
    except BenchError as exc:
        print(f"bench_scale：{exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[:1] or [type(exc).__name__]
        print(f"bench_scale：数据库出错（是否已运行 migrate 和 generate_cases？）：{first[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
