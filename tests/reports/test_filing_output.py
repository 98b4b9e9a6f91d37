"""The filing register's API rows (``FilingOutput``) are built directly for speed: they must equal DRF's
generic output, field for field, for every kind of row (with and without a filing, visits, a decision time)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cases.models import Case, CaseState
from reports.selectors import current_filings, filing_row_values, filing_rows
from reports.serializers import FilingOutput, filing_rows_output
from reports.synthetic import cases_generate
from workflow.models import ReturnVisit

pytestmark = pytest.mark.django_db


def test_filing_rows_equal_the_generic_output():
    cases_generate(count=80, seed=7, end=dt.date(2026, 6, 30), batch=100)
    decided = filing_rows(Case.objects.filter(state__in=CaseState.decided(), decision_date__isnull=False)
                          .order_by("-decision_date", "-id"))
    rows = list(decided)
    assert len(rows) >= 10
    # Make sure both branches of each optional value are compared.
    Case.objects.filter(pk=rows[0].pk).update(decided_at=None)
    Case.objects.filter(pk=rows[2].pk).update(decided_at=dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
    rows = list(decided.all())
    filings = current_filings([c.pk for c in rows])
    filings.pop(rows[1].pk, None)  # a row whose filing report was never requested
    assert any(c.pk in filings for c in rows) and any(c.pk not in filings for c in rows)
    assert any(c.decided_at is None for c in rows) and any(c.decided_at for c in rows)
    # A visit done and a visit still planned (the register shows both).
    ReturnVisit.objects.create(case=rows[3], due_on=dt.date(2026, 5, 1), visited_on=dt.date(2026, 5, 3),
                               cadre_state="工作积极，表现良好")
    ReturnVisit.objects.create(case=rows[3], due_on=dt.date(2026, 11, 1))
    rows = list(decided.all())
    serializer = FilingOutput(context={"filings": filings})
    for case in rows:
        fast = serializer.to_representation(case)
        generic = serializers.Serializer.to_representation(serializer, case)
        assert json.loads(JSONRenderer().render(fast)) == json.loads(JSONRenderer().render(generic)), case.pk
        assert list(fast) == list(generic)
    # What the API answers with: the same rows read as values.
    as_values = filing_rows_output(filing_row_values([c.pk for c in rows]), filings)
    assert as_values == [serializer.to_representation(case) for case in rows]
    assert any(row["return_visits"] for row in as_values) and any(row["filing"] for row in as_values)


def test_register_rows_read_only_their_columns_and_never_a_query_per_row(world):
    """The register's page and API read the cases with ``FILING_ROW_FIELDS`` only: a field the row shows
    but the list does not load would cost one query per row, so the count must not grow with the rows."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from reports.selectors import FILING_ROW_FIELDS, filing_list

    orgdept = world.users["orgdept"]
    cases_generate(count=60, seed=3, end=dt.date(2026, 6, 30), batch=100)
    listed = filing_list(orgdept, date_from=dt.date(2000, 1, 1), date_to=dt.date(2026, 12, 31))
    visible = list(listed.values_list("pk", flat=True))
    assert len(visible) >= 3, "generated decided cases the organisation department receives"
    ReturnVisit.objects.create(case_id=visible[0], due_on=dt.date(2026, 5, 1), visited_on=dt.date(2026, 5, 3),
                               cadre_state="表现良好")
    assert "summary" not in FILING_ROW_FIELDS  # the long texts stay in the database

    def count(client, url: str) -> tuple[int, bytes]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return len(ctx.captured_queries), response.content

    page, api = Client(), APIClient()
    page.force_login(orgdept)
    api.force_authenticate(orgdept)
    period = "from=2000-01-01&to=2026-12-31"
    few_page, _ = count(page, f"/filings/?{period}&q=容案2099")  # no rows
    many_page, html = count(page, f"/filings/?{period}")
    assert "表现良好" in html.decode()
    few_api, _ = count(api, f"/api/filings/?{period}&page_size=1")
    many_api, body = count(api, f"/api/filings/?{period}&page_size=50")
    assert len(json.loads(body)["results"]) == len(visible[:50])
    assert many_api == few_api
    assert many_page <= few_page + 3  # the rows' organisations, visits and filing reports: one query each
