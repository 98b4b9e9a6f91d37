"""The filing register's API rows (``FilingOutput``) are built directly for speed: they must equal DRF's
generic output, field for field, for every kind of row (with and without a filing, visits, a decision time)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cases.models import Case, CaseState
from reports.selectors import current_filings
from reports.serializers import FilingOutput
from reports.synthetic import cases_generate
from workflow.models import ReturnVisit

pytestmark = pytest.mark.django_db


def test_filing_rows_equal_the_generic_output():
    cases_generate(count=80, seed=7, end=dt.date(2026, 6, 30), batch=100)
    decided = (Case.objects.filter(state__in=CaseState.decided(), decision_date__isnull=False)
               .select_related("subject__unit", "accountability_org").prefetch_related("return_visits")
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
