"""A real Celery worker killed in the middle of the deadline check: the rerun takes each step exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection
from freezegun import freeze_time

from accounts.models import Membership
from tests.conftest import needs_services
from tests.factories import CommitteeFactory, PersonFactory, UnitFactory, case_in_state, inspector, organ
from workflow.models import DeadlinePolicy, DeadlineStep, Notification
from workflow.tasks import deadlines_check

CASES = 6
CHECK_DAY = "2025-10-17"  # after reminder (29 Sep), overdue (11 Oct) and escalation (17 Oct) of a 10 Oct deadline


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


@needs_services()
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_check_leaves_exactly_one_step_of_each(celery_worker_process):
    # The jurisdiction counts working days; the worker reads the same policy from the database.
    upper = CommitteeFactory()
    lower = CommitteeFactory(parent=upper)
    DeadlinePolicy.objects.create(organisation=upper, days_kind="working", started_days=5,
                                  reminder_lead_days=3, escalation_days=5)
    unit = UnitFactory(parent=lower)
    handler = inspector(organ(lower, "discipline"), full_name="承办人")
    head = inspector(organ(upper, "discipline"), full_name="上级主任")
    Membership.objects.filter(user=head).update(is_head=True)
    with freeze_time("2025-09-26 09:00:00+08:00"):
        cases = [case_in_state("started", subject=PersonFactory(unit=unit), created_by=handler) for _ in range(CASES)]
    assert {c.deadline for c in cases} == {dt.date(2025, 10, 10)}
    blocked = cases[CASES // 2]

    # Another session holds the row lock of a case in the middle: the worker stops there, mid-run,
    # after it has committed the steps of the cases before it.
    holder = connection.copy()
    holder.connect()
    holder.set_autocommit(False)
    holder.cursor().execute("SELECT id FROM cases_case WHERE id = %s FOR UPDATE", [blocked.pk])
    try:
        deadlines_check.delay(CHECK_DAY)
        earlier = [c.pk for c in cases if (c.deadline, c.pk) < (blocked.deadline, blocked.pk)]
        _wait_for(lambda: DeadlineStep.objects.filter(case_id__in=earlier).count() == 3 * len(earlier))
        time.sleep(1.0)
        assert not DeadlineStep.objects.filter(case=blocked).exists()

        for child in _children(celery_worker_process.pid):
            os.kill(child, signal.SIGKILL)
    finally:
        holder.rollback()
        holder.close()

    # Rerun (the killed task may also be redelivered: acks late, rejected on worker loss).
    deadlines_check.delay(CHECK_DAY).get(timeout=120)
    _wait_for(lambda: DeadlineStep.objects.count() == 3 * CASES)
    time.sleep(2.0)  # a redelivered run, if any, has had time to finish and must have added nothing

    for case in cases:
        steps = sorted(DeadlineStep.objects.filter(case=case).values_list("step", flat=True))
        assert steps == ["escalation", "overdue", "reminder"], case.pk
        assert Notification.objects.filter(case=case, user=handler, text__startswith="催办").count() == 1
        assert Notification.objects.filter(case=case, user=head, text__startswith="超期督办").count() == 1
