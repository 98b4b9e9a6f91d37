"""A real Celery worker process over Redis completes a task against the real database."""

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case
from tests.conftest import needs_services
from workflow.models import HistoryEntry
from workflow.tasks import cases_close_expired

from ..workflow.helpers import act, drive_to_proposed, meeting


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_worker_closes_expired_case(api, world, celery_worker_process):
    case = drive_to_proposed(api, world)
    act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    act(api("inspector"), case["id"], "execute", {"delivered_on": timezone.localdate().isoformat()})
    Case.objects.filter(pk=case["id"]).update(appeal_deadline=timezone.localdate() - dt.timedelta(days=1))

    result = cases_close_expired.delay()

    assert result.get(timeout=60) == 1
    assert Case.objects.get(pk=case["id"]).state == "closed"
    entry = HistoryEntry.objects.filter(case_id=case["id"]).last()
    assert (entry.action, entry.via, entry.actor_name) == ("close", "task", "系统")
