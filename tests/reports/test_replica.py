"""Statistics read from a replica (DATABASE_REPLICA_URL); writes and everything else stay on the primary.

The replica alias here mirrors the test database, read-only as a hot standby is: a write or a temporary
table sent to it would fail, so a page that works proves none went there.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrgKind
from cases.models import Case, CaseState
from reports.insight import insight_build, insight_filter
from reports.models import AnnualReport, AnnualReportStatus
from reports.replica import replica_reads
from tests.conftest import needs_postgresql
from tests.factories import (
    CommitteeFactory,
    PersonFactory,
    UnitFactory,
    case_in_state,
    committee_member,
    organ,
)

AGGREGATE = re.compile(r"GROUP BY|COUNT\(|percentile_cont", re.IGNORECASE)


@pytest.fixture(scope="module")
def replica():
    """A ``replica`` alias on the test database, as settings make it from DATABASE_REPLICA_URL (a mirror in
    tests), refusing writes as a streaming replica does. Module-scoped: the alias must exist before each
    test's database access is set up, which allows it (``databases``)."""
    config = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "options": "-c default_transaction_read_only=on"}
    connections.settings["replica"] = config
    try:
        yield connections["replica"]
    finally:
        connections["replica"].close()
        del connections["replica"]
        del connections.settings["replica"]


@pytest.fixture
def committee():
    a = CommitteeFactory(name="中共甲市委", short_name="甲")
    unit = UnitFactory(parent=a)
    for state in (CaseState.EXECUTED, CaseState.EXECUTED, CaseState.PROPOSED, CaseState.STARTED):
        case_in_state(state, subject=PersonFactory(unit=unit))
    return {"org": a, "member": committee_member(a)}


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {"from": (today - dt.timedelta(days=3)).isoformat(), "to": today.isoformat()}


def _aggregates(queries: CaptureQueriesContext) -> list[str]:
    """The statistics' aggregate queries: over cases and findings, or any summary kept for them (not, say, the
    unread-notification count every page makes)."""
    return [q["sql"] for q in queries.captured_queries
            if AGGREGATE.search(q["sql"]) and re.search(r'"cases_|summary|insight', q["sql"], re.IGNORECASE)]


@needs_postgresql()
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_dashboard_aggregates_are_read_from_the_replica(client, committee, replica):
    member = committee["member"]
    client.force_login(member)
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as mirror:
        response = client.get(reverse("reports:insight"), _period())
        export = client.get(reverse("reports:insight-export", args=["state"]), _period())

    assert response.status_code == 200 and export.status_code == 200
    assert re.search(r'id="total-cases">4<', response.content.decode())
    assert len(_aggregates(mirror)) >= 3, [q["sql"] for q in mirror.captured_queries]
    assert _aggregates(primary) == []
    # Only reads went to the replica; the figures are those the primary gives.
    assert all(q["sql"].lstrip().upper().startswith(("SELECT", "WITH")) for q in mirror.captured_queries)
    direct = insight_build(member, insight_filter(member, _period()))
    assert response.context["insight"].chart("state").rows == direct.chart("state").rows


@needs_postgresql()
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_annual_report_figures_are_read_from_the_replica_and_the_report_stored_on_the_primary(
        client, committee, replica):
    client.force_login(committee["member"])
    commission = organ(committee["org"], OrgKind.DISCIPLINE)
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as mirror:
        # Rendered in-process after the commit (no worker in this test).
        response = client.post(reverse("reports:annual-report"),
                               {"organisation": commission.pk, "year": timezone.localdate().year})
    assert response.status_code == 302
    report = AnnualReport.objects.get(organisation=commission)
    assert report.status == AnnualReportStatus.READY, report.error
    assert report.figures["state"]["rows"] == [["已启动", 1], ["已提出建议", 1], ["已执行", 2]]
    assert _aggregates(mirror) and _aggregates(primary) == []


@needs_postgresql()
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_write_inside_replica_reads_goes_to_the_primary(replica):
    org = CommitteeFactory(name="测试单位")
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(replica) as mirror:
        with replica_reads():
            read = Organisation.objects.get(pk=org.pk)
            read.name = "测试单位（改）"
            read.save()
            Case.objects.count()
        after = Organisation.objects.get(pk=org.pk)

    assert after.name == "测试单位（改）"
    # Had the write gone to the replica, it would have been refused as a standby refuses it.
    with pytest.raises(Exception, match="read-only transaction"), transaction.atomic(using="replica"):
        Organisation.objects.using("replica").filter(pk=org.pk).update(name="不应写入")
    assert [q["sql"].split()[0] for q in mirror.captured_queries] == ["SELECT", "SELECT"]
    assert [q["sql"].split()[0] for q in primary.captured_queries if q["sql"].split()[0] in ("UPDATE", "SELECT")] == [
        "UPDATE", "SELECT"]


def test_replica_reads_route_only_inside_the_block(replica):
    assert router.db_for_read(Case) == "default"
    with replica_reads():
        assert router.db_for_read(Case) == "replica"
        assert router.db_for_write(Case) == "default"
        with pytest.raises(RuntimeError), replica_reads():
            raise RuntimeError("an error inside the block")
        assert router.db_for_read(Case) == "replica"
    assert router.db_for_read(Case) == "default"
    assert router.allow_migrate("replica", "cases") is False and router.allow_migrate("default", "cases") is not False
