"""The case list's rows (``CaseOutput``) are built directly for speed: they must equal DRF's generic output."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cases.models import Case
from reports.synthetic import cases_generate
from workflow.selectors import case_list_base, case_rows
from workflow.serializers import CaseDetailOutput, CaseOutput, case_rows_output

pytestmark = pytest.mark.django_db


def test_list_rows_equal_the_generic_output_for_every_kind_of_case(admin_user):
    cases_generate(count=60, seed=5, end=dt.date(2026, 6, 30), batch=100)
    case = Case.objects.order_by("id").first()
    # A case without handler, applicant unit, outcome or deadline, so the None branches are compared too.
    Case.objects.filter(pk=case.pk).update(handler=None, applicant_unit=None, outcome="", deadline=None)
    rows = list(case_list_base(admin_user))
    assert len(rows) == 60
    assert any(c.handler_id is None for c in rows) and any(c.handler_id for c in rows)
    assert any(c.applicant_unit_id for c in rows) and any(c.outcome for c in rows) and any(c.deadline for c in rows)
    assert {c.is_overdue() for c in rows} == {True, False}
    serializer = CaseOutput(context={"user": admin_user})
    for row in rows:
        fast = serializer.to_representation(row)
        generic = serializers.Serializer.to_representation(serializer, row)
        assert json.dumps(fast, ensure_ascii=False) == json.dumps(generic, ensure_ascii=False), row.pk
    # The list as the API renders it, keys in DRF's order.
    rendered = JSONRenderer().render(CaseOutput(rows, many=True, context={"user": admin_user}).data)
    assert json.loads(rendered)[0].keys() == serializers.Serializer.to_representation(serializer, rows[0]).keys()
    # The API list reads its rows as plain values (``case_rows``), in the order asked: the same output.
    ids = [c.pk for c in reversed(rows)]
    as_values = JSONRenderer().render(case_rows_output(case_rows(ids)))
    assert as_values == JSONRenderer().render(CaseOutput(list(reversed(rows)), many=True, context={"user": admin_user}).data)
    assert case_rows([]) == [] and [r["id"] for r in case_rows(ids[:3])] == ids[:3]


def test_detail_keeps_the_list_fields_and_adds_its_own(admin_user):
    cases_generate(count=5, seed=6, end=dt.date(2026, 6, 30), batch=100)
    case = case_list_base(admin_user).first()
    detail = CaseDetailOutput(case, context={"user": admin_user}).data
    row = CaseOutput(case, context={"user": admin_user}).data
    assert {k: detail[k] for k in row} == row
    assert {"summary", "allowed_actions", "claimed_situations"} <= set(detail) - set(row)
