"""What the database refuses for cases and findings, and how a case is referred to."""

import pytest
from django.db import IntegrityError, transaction

from cases.models import CaseState, Finding
from tests.factories import FindingFactory, case_in_state, handler_of

pytestmark = pytest.mark.django_db


def test_one_finding_per_clause_in_the_database():
    finding = FindingFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(case=finding.case, clause_id=finding.clause_id, status="not_met",
                               recorded_by=handler_of(finding.case))

    assert Finding.objects.get(case=finding.case).status == "met"


def test_the_same_clause_on_two_cases_is_two_findings():
    first = FindingFactory()
    second = FindingFactory(clause_id=first.clause_id)

    assert first.case_id != second.case_id
    assert Finding.objects.filter(clause_id=first.clause_id).count() == 2


def test_reference_carries_the_year_and_a_padded_number():
    case = case_in_state(CaseState.STARTED)

    assert case.reference == f"容案{case.created_at:%Y}-{case.pk:05d}"
    assert str(case) == f"{case.reference} {case.title}"


def test_a_case_has_a_new_deadline_and_revision_per_stage():
    started = case_in_state(CaseState.STARTED)
    investigating = case_in_state(CaseState.INVESTIGATING)

    assert started.revision == 0 and started.deadline is not None
    assert investigating.revision == 1 and investigating.deadline > started.deadline
