"""Pages make a bounded number of SQL queries however many rows they show (not a browser test)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case

from .helpers import PDF_BYTES, actor, findings, seed_application

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries]


def _growth(few: list[str], many: list[str]) -> str:
    """The query shapes that ran more often with more rows: what to look at when the bound breaks."""
    shape = lambda sql: re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:200]  # noqa: E731
    a, b = Counter(map(shape, few)), Counter(map(shape, many))
    return "\n".join(f"{b[s] - a[s]:+d} × {s}" for s in b if b[s] > a[s])


def _assert_bounded(client, url_few: str, url_many: str, django_assert_max_num_queries) -> None:
    few = _queries(client, url_few)
    many = _queries(client, url_many)
    assert len(many) <= len(few), f"{url_many}: {len(few)} → {len(many)} queries\n{_growth(few, many)}"
    with django_assert_max_num_queries(len(few)):
        client.get(url_many)


def _open_cases(world, n: int, *, prefix: str) -> None:
    from workflow import services

    inspector = actor(world, "inspector")
    people = [world.people[p] for p in ("cadre", "cadre2", "housing1", "housing2")]
    for i in range(n):
        services.case_create(
            actor=inspector, title=f"{prefix}{i}", subject=people[i % len(people)],
            accountability_org=world.orgs["zjk_dc"], conduct_date="2025-06-01", matter_category="environment",
            summary="工作中出现偏差。",
        )


def test_inbox_queries_do_not_grow_with_the_number_of_cases(client, world, django_assert_max_num_queries):
    _open_cases(world, 5, prefix="少")
    client.force_login(world.users["inspector"])
    few = _queries(client, "/")
    _open_cases(world, 35, prefix="多")
    assert Case.objects.count() == 40
    many = _queries(client, "/")
    assert len(many) <= len(few), f"inbox: {len(few)} → {len(many)} queries\n{_growth(few, many)}"
    with django_assert_max_num_queries(len(few)):
        client.get("/")


def _investigated(world, *, every_clause: bool, extra_rows: int) -> Case:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflow import services

    case = seed_application(world, title="多" if every_clause else "少")
    inspector = actor(world, "inspector")
    services.case_investigate(case_id=case.pk, actor=inspector)
    wanted = findings(case, tolerable=True)
    for clause_id, status in list(wanted.items())[: None if every_clause else 1]:
        services.finding_record(case_id=case.pk, actor=inspector, clause_id=clause_id, status=status,
                                reasoning="核实无误。")
    for i in range(extra_rows):
        services.evidence_add(case_id=case.pk, actor=inspector, clause_id=next(iter(wanted)),
                              upload=SimpleUploadedFile(f"材料{i}.pdf", PDF_BYTES + bytes([i]), "application/pdf"))
        services.statement_add(case_id=case.pk, actor=actor(world, "cadre"), text=f"补充陈述{i}")
        services.participant_add(case_id=case.pk, actor=inspector, name=f"专家{i}", kind="expert")
    return case


@pytest.mark.parametrize("tab", ["findings", "history"])
def test_case_page_queries_do_not_grow_with_findings_evidence_and_history(
    client, world, settings, tmp_path, tab, django_assert_max_num_queries
):
    settings.MEDIA_ROOT = tmp_path
    few = _investigated(world, every_clause=False, extra_rows=0)
    many = _investigated(world, every_clause=True, extra_rows=6)
    assert many.history.count() > 3 * few.history.count()
    client.force_login(world.users["inspector"])
    _assert_bounded(client, f"/cases/{few.pk}/?tab={tab}", f"/cases/{many.pk}/?tab={tab}",
                    django_assert_max_num_queries)
