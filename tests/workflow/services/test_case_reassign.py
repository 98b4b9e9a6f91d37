"""services.case_reassign: the case moves to another inspector of the same department."""

import pytest

from cases.models import CaseState
from tests.factories import DisciplineFactory, PersonFactory, actor, case_in_state, handler_of, inspector
from workflow import services
from workflow.errors import InvalidInput, NotAllowed

from .support import footprint, last_entry, notices

pytestmark = pytest.mark.django_db


def test_the_new_handler_takes_over_and_is_told():
    case = case_in_state(CaseState.INVESTIGATING)
    old = handler_of(case)
    new = inspector(case.accountability_org, full_name="冯纪检")

    services.case_reassign(case_id=case.pk, actor=actor(old), handler=new, reason="工作调整。")

    after = footprint(case)
    assert (after["handler"], after["state"]) == (new.pk, CaseState.INVESTIGATING)
    entry = last_entry(case)
    assert (entry.action, entry.reason) == ("reassign", "工作调整。")
    assert entry.changes == {"handler": {"before": old.display_name(), "after": "冯纪检"}}
    assert notices(case) == {new.pk: [f"{old.display_name()}将案件转交给您：工作调整。"]}


@pytest.mark.parametrize("who", ["elsewhere", "inactive", "same", "nobody"])
def test_the_new_handler_must_be_an_active_inspector_of_the_department(who):
    case = case_in_state(CaseState.INVESTIGATING)
    handler = handler_of(case)
    target = {
        "elsewhere": lambda: inspector(DisciplineFactory()),
        "inactive": lambda: inspector(case.accountability_org, is_active=False),
        "same": lambda: handler,
        "nobody": lambda: None,
    }[who]()
    before = footprint(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_reassign(case_id=case.pk, actor=actor(handler), handler=target, reason="调整。")

    assert refused.value.field == "handler"
    assert footprint(case) == before


def test_the_cadre_cannot_choose_their_handler():
    case = case_in_state(CaseState.INVESTIGATING, subject=PersonFactory(with_login=True))
    before = footprint(case)

    with pytest.raises(NotAllowed):
        services.case_reassign(case_id=case.pk, actor=actor(case.subject.user),
                               handler=inspector(case.accountability_org), reason="换人。")

    assert footprint(case) == before
