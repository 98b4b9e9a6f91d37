"""Every list reads indexes at 100,000 cases: no sequential scan of the case table, a bounded query count.

The demo world's organisations and people are joined by 100,000 cases written by one SQL statement
(every state, five years of creation dates, decided cases with meeting dates), the planner is given
fresh statistics, and each list a user opens (the inbox and its next page, overdue first; the
committee's queue; a one- and a two-character name search; a case number search; the filing register; the API
lists) is requested as that user. Every query that touched ``cases_case`` is then EXPLAINed, and the
test fails on a ``Seq Scan`` of the case table: the one exception is a scan with no filter directly
under a LIMIT (the bounded count of an administrator, who sees every case: it reads at most 1,001 rows).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Organisation, OrgKind, Person, Role
from cases.models import Case, CaseState
from tests.conftest import needs_postgresql

pytestmark = [needs_postgresql()]

CASES = 100_000

FILL = """
INSERT INTO cases_case (
  title, ruleset, conduct_date, matter_category, summary, remedial_measures, claimed_situations, disposition,
  origin, state, outcome, deadline, sent_back_reason, revision, created_at, updated_at, accountability_org_id,
  subject_id, accountability_measure, decision_date, decided_at, reference)
SELECT
  '合成事项' || g, %(ruleset)s, DATE '2021-01-01' + (g %% 1500), 'other', '基本情况' || g, '', '[]'::jsonb, '',
  'accountability', s.state, CASE WHEN s.decided THEN 'exempt' ELSE '' END,
  CASE WHEN s.running THEN DATE '2021-03-01' + (g %% 2000) END, '', 0,
  TIMESTAMPTZ '2021-01-01' + make_interval(mins => g * 25), now(),
  (%(orgs)s::bigint[])[1 + g %% cardinality(%(orgs)s::bigint[])],
  (%(people)s::bigint[])[1 + (g * 7919) %% cardinality(%(people)s::bigint[])],
  '', CASE WHEN s.decided THEN DATE '2021-02-01' + (g %% 1800) END,
  CASE WHEN s.decided THEN TIMESTAMPTZ '2021-02-01' + make_interval(days => g %% 1800) END,
  '容案2099-' || CASE WHEN g < 100000 THEN lpad(g::text, 5, '0') ELSE g::text END
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (
  SELECT st AS state, st = ANY(%(decided)s::text[]) AS decided, st = ANY(%(running)s::text[]) AS running
  FROM (SELECT (%(states)s::text[])[1 + g %% cardinality(%(states)s::text[])] AS st) pick
) s
"""


# 3,000 more cadres with names as varied as real ones, in the demo world's units.
PEOPLE = """
INSERT INTO accounts_person (kind, name, unit_id, position, rank, managing_committee_id)
SELECT 'cadre',
  substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈', 1 + g %% 50, 1)
  || substr('建国文华明伟芳军平红志强德永新春海英玉兰光福安宁立成秀丽云飞鹏涛', 1 + (g / 50) %% 40, 1)
  || substr('东南西北中山水林峰江河湖波涛宇航', 1 + (g / 2000) %% 16, 1),
  (%(units)s::bigint[])[1 + g %% cardinality(%(units)s::bigint[])], '科长', '', NULL
FROM generate_series(1, 3000) AS g
"""


def _fill(world: Any, n: int = CASES) -> None:
    discipline = list(Organisation.objects.filter(kind=OrgKind.DISCIPLINE).values_list("pk", flat=True))
    units = list(Organisation.objects.filter(kind=OrgKind.UNIT).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(PEOPLE, {"units": units})
    people = list(Person.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(FILL, {
            "ruleset": "zhangjiakou", "orgs": discipline, "people": people, "n": n,
            "states": list(CaseState.values), "decided": list(CaseState.decided()),
            "running": list(CaseState.in_progress()),
        })
        # Statistics from every row (the sample is 300 x the target), so the plans do not vary by sample.
        cursor.execute("SET LOCAL default_statistics_target = 1000")
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE accounts_person")
        cursor.execute("ANALYZE accounts_organisation")


def _case_table_scans(plan: dict[str, Any], parent: str = "") -> list[str]:
    """Sequential scans of the case table in a JSON plan, except an unfiltered one right under a LIMIT."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == "cases_case":
        if not (parent == "Limit" and "Filter" not in plan):
            found.append(f"Seq Scan on cases_case (filter: {plan.get('Filter', '—')})")
    for child in plan.get("Plans", []):
        found += _case_table_scans(child, plan.get("Node Type", ""))
    return found


def _scans_in(queries: list[dict[str, str]]) -> list[str]:
    problems = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if "cases_case" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            problems += [f"{p}\n  in: {sql}" for p in _case_table_scans(plan[0]["Plan"])]
    return problems


def _open(client: Client, url: str) -> tuple[Any, list[dict[str, str]]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, list(ctx.captured_queries)


@pytest.mark.django_db
def test_every_list_reads_indexes_at_100000_cases(world):
    _fill(world)
    assert Case.objects.count() >= CASES
    # The triggers filled where each subject is managed, for every row the statement wrote.
    assert not Case.objects.filter(managed_by__isnull=True).exists()

    def user_with(role: str) -> Any:
        return Membership.objects.filter(role=role).select_related("user").order_by("id").first().user

    someone = Case.objects.filter(reference="容案2099-04242").select_related("subject").get()
    surname = someone.subject.name[:2]
    users = {role: user_with(role) for role in (Role.INSPECTOR, Role.COMMITTEE, Role.ORGDEPT, Role.UNIT)}
    cadre = Person.objects.filter(user__isnull=False).select_related("user").first().user
    admin = type(cadre).objects.filter(is_superuser=True).first()

    pages: list[tuple[str, Any, str]] = []
    for role in (Role.INSPECTOR, Role.COMMITTEE, Role.ORGDEPT):
        pages += [(role, users[role], reverse("home")),
                  (role, users[role], reverse("case-index")),
                  (role, users[role], reverse("case-index") + f"?q={surname}"),
                  (role, users[role], reverse("case-index") + "?q=2099-04242"),
                  (role, users[role], "/api/cases/"),
                  (role, users[role], f"/api/cases/?q={surname}"),
                  (role, users[role], reverse("case-index") + f"?q={surname[:1]}")]  # one character: a surname
    pages += [(Role.ORGDEPT, users[Role.ORGDEPT], reverse("reports:filing-register") + "?from=2021-01-01&to=2026-12-31"),
              (Role.ORGDEPT, users[Role.ORGDEPT], "/api/filings/?from=2021-01-01"),
              (Role.UNIT, users[Role.UNIT], reverse("case-index")),
              ("cadre", cadre, reverse("case-index")),
              ("admin", admin, reverse("case-index")),
              ("admin", admin, reverse("case-index") + "?q=%E5%AE%B9%E6%A1%882099-04242"),
              ("admin", admin, "/api/cases/")]

    problems: list[str] = []
    for who, user, url in pages:
        client = Client()
        client.force_login(user)
        response, queries = _open(client, url)
        assert len(queries) <= 30, (who, url, len(queries))
        problems += [f"{who} {url}: {p}" for p in _scans_in(queries)]
        # The next page costs what the first did: follow the keyset link (HTML) or the cursor (API).
        following = None
        if url.startswith("/api/"):
            following = response.json().get("next")
        else:
            html = response.content.decode()
            marker = 'rel="next" href="'
            if marker in html:
                following = html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
                following = url.split("?", 1)[0] + following
        if following:
            _, queries = _open(client, following)
            problems += [f"{who} {following} (next page): {p}" for p in _scans_in(queries)]
    assert not problems, "\n".join(problems)
    # The case number is found, by its stored, indexed reference.
    client = Client()
    client.force_login(admin)
    found = client.get(reverse("case-index") + "?q=容案2099-04242")
    assert [c.pk for c in found.context["rows"]] == [someone.pk]
