"""The Case admin: descriptive text is corrected through a service; everything else is read-only."""

import datetime as dt

import pytest

from cases.models import Case, CaseState
from tests.factories import UserFactory, case_in_state
from workflow.models import HistoryEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _form_data(page):
    form = page.context["adminform"].form
    return {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}


def test_fields_the_rules_depend_on_cannot_be_edited_in_the_admin(admin_client):
    case = case_in_state(CaseState.INVESTIGATING)
    before = Case.objects.get(pk=case.pk)
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/")
    editable = set(page.context["adminform"].form.fields)
    assert editable == {"title", "summary", "remedial_measures", "matter_category"}

    data = {**_form_data(page), "title": "更正后的事项名称", "ruleset": "henan", "conduct_date": "2001-01-01",
            "loss_amount": "99999999", "disposition": "fourth", "handler": ""}
    response = admin_client.post(f"/admin/cases/case/{case.pk}/change/", data)

    assert response.status_code == 302
    after = Case.objects.get(pk=case.pk)
    assert after.title == "更正后的事项名称"
    assert (after.ruleset, after.conduct_date, after.loss_amount, after.disposition, after.handler_id) == (
        before.ruleset, before.conduct_date, before.loss_amount, before.disposition, before.handler_id)
    assert after.conduct_date != dt.date(2001, 1, 1)
    assert after.revision == before.revision + 1
    entry = HistoryEntry.objects.filter(case=case).last()
    assert (entry.action, entry.via) == ("admin_edit", "admin")
    assert entry.changes == {"title": "更正后的事项名称", "before": {"title": before.title}}


def test_an_admin_save_without_changes_writes_no_history(admin_client):
    case = case_in_state(CaseState.INVESTIGATING)
    count = HistoryEntry.objects.filter(case=case).count()
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/")
    assert admin_client.post(f"/admin/cases/case/{case.pk}/change/", _form_data(page)).status_code == 302
    assert HistoryEntry.objects.filter(case=case).count() == count
