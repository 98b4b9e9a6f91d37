"""services.case_create: an inspector's own start, or a written application by a cadre or their unit."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import OrgKind
from cases.models import Case, CaseState
from tests.factories import (
    CaseFactory,
    PersonFactory,
    UnitFactory,
    UserFactory,
    actor,
    inspector,
    organ,
    unit_officer,
)
from workflow import services
from workflow.errors import InvalidInput, NotAllowed
from workflow.models import HistoryEntry, Notification, OutboxEvent

from .support import last_entry, names, notices, outbox

pytestmark = pytest.mark.django_db

CONDUCT = timezone.localdate() - dt.timedelta(days=40)


def fields(**extra):
    return {"title": "先行查封被问责", "conduct_date": CONDUCT, "matter_category": "environment",
            "summary": "督察期间先行查封。", **extra}


def test_an_inspector_starts_a_case_and_handles_it(django_capture_on_commit_callbacks):
    person = PersonFactory()
    discipline = organ(person.unit.parent, OrgKind.DISCIPLINE)
    officer = inspector(discipline)

    with django_capture_on_commit_callbacks() as callbacks:
        case = services.case_create(actor=actor(officer), subject=person, accountability_org=discipline, **fields())

    case.refresh_from_db()
    assert (case.state, case.origin, case.handler, case.created_by) == (CaseState.STARTED, "accountability", officer,
                                                                        officer)
    assert (case.ruleset, case.applicant, case.revision) == ("zhangjiakou", None, 0)
    assert case.deadline == timezone.localdate() + dt.timedelta(days=7)
    entry = last_entry(case)
    assert (entry.action, entry.from_state, entry.to_state, entry.actor) == ("start", "", "started", officer)
    assert entry.changes == {"title": "先行查封被问责", "subject": person.name, "ruleset": "zhangjiakou",
                             "origin": "accountability"}
    assert notices(case) == {} and outbox(case) == [] and names(callbacks) == []


def test_a_cadre_applies_for_themselves_and_the_department_is_told(django_capture_on_commit_callbacks):
    cadre = PersonFactory(with_login=True)
    discipline = organ(cadre.unit.parent, OrgKind.DISCIPLINE)
    officer = inspector(discipline)

    with django_capture_on_commit_callbacks() as callbacks:
        case = services.case_create(actor=actor(cadre.user), subject=None, accountability_org=discipline,
                                    claimed_situations=["zhangjiakou.S1"], **fields())

    assert (case.subject, case.origin, case.applicant, case.handler) == (cadre, "application", cadre.user, None)
    assert case.claimed_situations == ["zhangjiakou.S1"]
    assert last_entry(case).action == "apply"
    assert notices(case) == {officer.pk: [f"收到容错申请：{cadre.name}《先行查封被问责》"]}
    assert outbox(case) == [("application_submitted", {})]
    assert names(callbacks) == ["outbox_kick"]


def test_a_unit_applies_for_its_cadre_who_is_told():
    cadre = PersonFactory(with_login=True)
    officer = unit_officer(cadre.unit)
    discipline = organ(cadre.unit.parent, OrgKind.DISCIPLINE)

    case = services.case_create(actor=actor(officer), subject=cadre, accountability_org=discipline, **fields())

    assert (case.applicant, case.applicant_unit, case.origin) == (officer, cadre.unit, "application")
    assert last_entry(case).changes["applicant_unit"] == cadre.unit.name
    assert notices(case)[cadre.user.pk] == [f"{cadre.unit.name}已为您提交容错申请《先行查封被问责》"]


def test_the_same_submission_key_returns_the_case_already_made():
    first = CaseFactory(submission_key="form-1")

    again = CaseFactory(subject=first.subject, created_by=first.created_by, submission_key="form-1")

    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert HistoryEntry.objects.filter(case=first).count() == 1


def _nothing_written():
    assert not Case.objects.exists()
    assert not HistoryEntry.objects.exists() and not Notification.objects.exists() and not OutboxEvent.objects.exists()


def test_an_inspector_cannot_start_a_case_on_someone_outside_their_committee():
    officer = inspector(organ(UnitFactory().parent, OrgKind.DISCIPLINE))
    stranger = PersonFactory()

    with pytest.raises(InvalidInput) as refused:
        services.case_create(actor=actor(officer), subject=stranger,
                             accountability_org=officer.memberships.get().organisation, **fields())

    assert refused.value.field == "subject"
    _nothing_written()


def test_an_inspector_cannot_act_in_another_departments_name():
    person = PersonFactory()
    officer = inspector(organ(person.unit.parent, OrgKind.DISCIPLINE))
    other = organ(UnitFactory().parent, OrgKind.DISCIPLINE)

    with pytest.raises(InvalidInput) as refused:
        services.case_create(actor=actor(officer), subject=person, accountability_org=other, **fields())

    assert refused.value.field == "accountability_org"
    _nothing_written()


@pytest.mark.parametrize(("extra", "field"), [
    ({"conduct_date": timezone.localdate() + dt.timedelta(days=1)}, "conduct_date"),
    ({"title": "  "}, "title"),
    ({"matter_category": "weather"}, "matter_category"),
    ({"claimed_situations": ["henan.S1"]}, "claimed_situations"),
    ({"ruleset": "henan"}, "ruleset"),
])
def test_bad_input_names_the_field_and_writes_nothing(extra, field):
    person = PersonFactory()
    discipline = organ(person.unit.parent, OrgKind.DISCIPLINE)

    with pytest.raises(InvalidInput) as refused:
        services.case_create(actor=actor(inspector(discipline)), subject=person, accountability_org=discipline,
                             **fields(**extra))

    assert refused.value.field == field
    _nothing_written()


def test_a_user_with_no_role_may_not_start_anything():
    person = PersonFactory()

    with pytest.raises(NotAllowed):
        services.case_create(actor=actor(UserFactory()), subject=person,
                             accountability_org=organ(person.unit.parent, OrgKind.DISCIPLINE), **fields())

    _nothing_written()
