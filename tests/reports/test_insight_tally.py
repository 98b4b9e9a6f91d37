"""The statistics' summary table stays equal to a direct recount of the cases as they change, the dashboard
read through it equals the figures computed from the cases themselves, and return visits are counted."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrgKind
from cases.models import Case, CaseState
from reports.insight import Facts, insight_build, insight_cases, insight_filter, insight_from, insight_plan
from reports.models import InsightDirty, InsightTally
from reports.tally import case_facts, tally_check, tally_flush, tally_rebuild
from tests.factories import (
    CommitteeFactory,
    PersonFactory,
    UnitFactory,
    actor,
    case_in_state,
    committee_member,
    handler_of,
    inspector,
    organ,
    orgdept_officer,
)
from workflow import services
from workflow.models import ReturnVisit

pytestmark = pytest.mark.django_db


def _tally() -> Counter:
    tally_flush()
    out: Counter = Counter()
    for r in InsightTally.objects.all():
        out[(r.month, r.org_id, r.managed_id, r.ruleset, r.state, r.metric, r.key)] += r.n
    return out


def _recount() -> Counter:
    return Counter({k: n for k, n in case_facts(Case.objects.all()).items() if n})


@pytest.fixture
def world():
    a = CommitteeFactory(name="中共甲市委", short_name="甲")
    b = CommitteeFactory(name="中共乙市委", short_name="乙")
    unit_a, unit_b = UnitFactory(parent=a), UnitFactory(parent=b)
    cases = {
        "started": case_in_state(CaseState.STARTED, subject=PersonFactory(unit=unit_a)),
        "proposed": case_in_state(CaseState.PROPOSED, subject=PersonFactory(unit=unit_a), answered=False),
        "executed": case_in_state(CaseState.EXECUTED, subject=PersonFactory(unit=unit_a)),
        "appealed": case_in_state(CaseState.APPEALED, subject=PersonFactory(unit=unit_a, with_login=True)),
        "other": case_in_state(CaseState.EXECUTED, subject=PersonFactory(unit=unit_b)),
    }
    return {"a": a, "b": b, "unit_a": unit_a, "unit_b": unit_b, "cases": cases}


def test_summary_equals_a_direct_recount_after_transitions(world):
    cases = world["cases"]
    assert InsightDirty.objects.exists()  # the changes marked their cells
    assert _tally() == _recount() and not InsightDirty.objects.exists()
    assert sum(n for k, n in _tally().items() if k[5] == "case") == 5

    started = cases["started"]
    services.case_investigate(case_id=started.pk, actor=actor(handler_of(started)))
    assert _tally() == _recount()
    assert Case.objects.get(pk=started.pk).state == CaseState.INVESTIGATING
    assert any(k[4] == CaseState.INVESTIGATING and k[5] == "case" for k in _tally())

    # A return visit done; another planned by hand.
    executed = cases["executed"]
    visit = ReturnVisit.objects.filter(case=executed).first()
    handler = actor(handler_of(executed))
    services.visit_complete(case_id=executed.pk, actor=handler, visit_id=visit.pk,
                            visited_on=timezone.localdate().isoformat(), form=visit.form, notes="谈心谈话。",
                            cadre_state="工作积极。")
    services.visit_add(case_id=executed.pk, actor=handler, due_on=timezone.localdate().isoformat())
    assert _tally() == _recount()
    assert _tally()[next(k for k in _tally() if k[5] == "visit" and k[6] == "done")] == 1

    # The cadre moves to the other city's unit: the case now counts where the cadre is managed.
    person = executed.subject
    person.unit = world["unit_b"]
    person.save()
    assert _tally() == _recount()
    assert {k[2] for k in _tally() if k[5] == "case" and k[1] == executed.accountability_org_id} >= {world["b"].pk}

    # A unit moves under the other committee: its cadres' cases follow it.
    unit = world["unit_a"]
    unit.parent = world["b"]
    unit.save()
    assert _tally() == _recount()
    assert world["a"].pk not in {k[2] for k in _tally()}

    # The table survives a rebuild and detects rows written behind its back.
    tally_rebuild()
    assert _tally() == _recount()
    InsightTally.objects.filter(metric="case").first().delete()
    assert tally_check() and _tally() == _recount()


def _direct(user, f):
    """The figures computed from the visible cases themselves, without the summary table."""
    facts = Facts()
    facts.add_live(case_facts(insight_cases(user, f)))
    return insight_from(facts, f, today=timezone.localdate())


def _periods():
    today = timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    return [{"from": first.isoformat(), "to": today.isoformat()},
            {"from": (today - dt.timedelta(days=3)).isoformat(), "to": today.isoformat()},
            {"from": (first + dt.timedelta(days=5)).isoformat(), "to": today.isoformat()}]


def test_dashboard_through_the_summary_equals_the_direct_count_for_every_scope(world):
    a = world["a"]
    users = [committee_member(a), committee_member(world["b"]), orgdept_officer(organ(a, OrgKind.ORGDEPT)),
             inspector(organ(a, OrgKind.DISCIPLINE))]
    for user in users:
        for params in _periods():
            f = insight_filter(user, params)
            via_table, direct = insight_build(user, f), _direct(user, f)
            assert (via_table.total, via_table.decided, via_table.tolerated, via_table.overdue) == \
                (direct.total, direct.decided, direct.tolerated, direct.overdue)
            for chart in direct.charts:
                assert via_table.chart(chart.id).rows == chart.rows, (user.username, params, chart.id)
            assert via_table.total == insight_cases(user, f).count()
    # Narrowed by rule set and by department, the same.
    user = users[0]
    ruleset = world["cases"]["executed"].ruleset
    for extra in ({"ruleset": ruleset}, {"organisation": str(organ(a, OrgKind.DISCIPLINE).pk)}):
        f = insight_filter(user, {**_periods()[0], **extra})
        via_table, direct = insight_build(user, f), _direct(user, f)
        assert via_table.total == direct.total == insight_cases(user, f).count() > 0
        assert [c.rows for c in via_table.charts] == [c.rows for c in direct.charts]


def test_the_whole_months_come_from_the_table_and_consulted_cases_live(world):
    a = world["a"]
    officer = orgdept_officer(organ(a, OrgKind.ORGDEPT))
    today = timezone.localdate()
    f = insight_filter(officer, {"from": today.replace(day=1).isoformat(), "to": today.isoformat()})
    changed = insight_plan(officer, f)
    assert len(changed.live) == 2  # the cells changed since the last fold are counted live
    assert insight_build(officer, f).total == insight_cases(officer, f).count()
    tally_flush()
    plan = insight_plan(officer, f)
    assert plan.months == (today.replace(day=1), today.replace(day=1))
    # The organisation department is consulted on the proposed case before any decision: seen live.
    proposed = world["cases"]["proposed"]
    assert len(plan.live) == 1 and set(plan.live[0].values_list("pk", flat=True)) == {proposed.pk}
    assert dict(insight_build(officer, f).chart("state").rows).get("已提出建议") == 1


def test_return_visits_due_and_done_with_links_listing_them(client, world):
    a = world["a"]
    user = committee_member(a)
    executed = world["cases"]["executed"]
    planned = ReturnVisit.objects.filter(case__subject__unit=world["unit_a"]).count()  # on delivery
    assert planned >= 1
    today = timezone.localdate()
    # One visit past its date and not done (planned by hand earlier), one done.
    ReturnVisit.objects.create(case=executed, due_on=today - dt.timedelta(days=2), assignee=handler_of(executed))
    visit = ReturnVisit.objects.filter(case=executed, months_after__isnull=False).first()
    services.visit_complete(case_id=executed.pk, actor=actor(handler_of(executed)), visit_id=visit.pk,
                            visited_on=today.isoformat(), form=visit.form, notes="回访。", cadre_state="良好。")
    params = {"from": (today - dt.timedelta(days=3)).isoformat(), "to": today.isoformat()}
    insight = insight_build(user, insight_filter(user, params))
    rows = dict(insight.chart("visit").rows)
    assert rows == {"已完成回访": 1, "到期未回访（已超期）": 1, "尚未到期": planned - 1}
    # The other city's visits are not counted here.
    other = insight_build(committee_member(world["b"]), insight_filter(committee_member(world["b"]), params))
    assert sum(dict(other.chart("visit").rows).values()) == ReturnVisit.objects.filter(case=world["cases"]["other"]).count()

    client.force_login(user)
    spec = insight.chart("visit").spec()
    for label, count in rows.items():
        link = spec["links"][spec["categories"].index(label)]
        response = client.get(link)
        assert response.status_code == 200
        groups = response.context["groups"]
        assert len(groups) == 1 and len(groups[0][2]) == count
    response = client.get(reverse("visit-index"), {"mine": "0", "status": "later"})
    assert response.status_code == 400 and "status 应为" in response.content.decode()
    response = client.get(reverse("visit-index"), {"mine": "0", "from": "2026-02-30"})
    assert response.status_code == 400 and "起始日期格式应为" in response.content.decode()
    # The chart has its table in the workbook.
    xlsx = client.get(reverse("reports:insight-export", args=["visit"]), params)
    assert xlsx.status_code == 200


def test_scopes_are_read_by_committee_only_when_whole_committee_trees(world):
    from accounts.selectors import subtree_ids
    from reports.tally import closed_under_committees, committees

    tree = committees()
    assert tree[world["unit_a"].pk] == world["a"].pk and tree[world["a"].pk] == world["a"].pk
    assert closed_under_committees(subtree_ids(world["a"]), tree)
    assert closed_under_committees(subtree_ids(world["a"]) | subtree_ids(world["b"]), tree)
    assert not closed_under_committees({world["unit_a"].pk}, tree)  # a unit without its committee
