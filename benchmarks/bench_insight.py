"""Benchmark of the statistics (统计分析) on a generated database (not a timed test).

For a province committee member (the widest scope), a city committee member, a city organisation
department officer and a city discipline commission inspector, each drawn from ``generate_cases``'s
officials, it times the dashboard page through the test client (server time, with its query count)
over the default period and over the whole generated span, reporting median and worst of N runs. The
figures come from the summary table (``reports.tally``), brought up to date first.

Run: ``DATABASE_URL=postgres://... .venv/bin/python benchmarks/bench_insight.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--from", dest="date_from", default="2021-01-01")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import OrgLevel, Role, User
    from cases.models import Case
    from reports.models import InsightTally
    from reports.tally import tally_check

    setup_test_environment()
    print(f"cases: {Case.objects.count():,}  database: {connection.vendor}")
    # Generated cases are written in bulk, past the marks that keep the summary table exact: the statistics
    # task's check finds the months that disagree and recomputes them (once; later runs find none).
    started = time.perf_counter()
    months = tally_check()
    print(f"summary table: {InsightTally.objects.count():,} rows; check recomputed {len(months)} months "
          f"in {time.perf_counter() - started:.1f} s")

    def official(role: str, level: str) -> User | None:
        return (User.objects.filter(username__startswith=f"gen_{role}_", memberships__role=role,
                                    memberships__organisation__level=level).order_by("id").first())

    users = [("province committee", official(Role.COMMITTEE, OrgLevel.PROVINCE)),
             ("city committee", official(Role.COMMITTEE, OrgLevel.CITY)),
             ("city orgdept", official(Role.ORGDEPT, OrgLevel.CITY)),
             ("city inspector", official(Role.INSPECTOR, OrgLevel.CITY))]
    for label, user in users:
        if user is None:
            print(f"{label}: no generated official (province committees have none unless added)")
            continue
        client = Client()
        client.force_login(user)
        client.get("/insight/", SERVER_NAME="127.0.0.1")  # the process's first page (templates, rule sets): not timed
        for period, params in (("default period", {}), ("whole span", {"from": args.date_from})):
            times, queries = [], 0
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    response = client.get("/insight/", params, SERVER_NAME="127.0.0.1")
                    times.append((time.perf_counter() - started) * 1000)
                queries = len(ctx.captured_queries)
                assert response.status_code == 200, response.status_code
            total = response.context["insight"].total
            print(f"{label:<20} {period:<15} cases {total:>7,}  median {statistics.median(times):7.0f} ms  "
                  f"worst {max(times):7.0f} ms  queries {queries}")


if __name__ == "__main__":
    main()
