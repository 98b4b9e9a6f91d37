"""Pages read branch by branch of the visibility rule (``listing.keyset.ordered_keys``) show exactly
the list: every visible case once, in order, forward and back, for each kind of user (both engines).

Each branch (a department's cases, the cases a committee's cadres are subjects of, an organisation
department's decided cases, a cadre's own) is read on its own from its index and the pages merge them;
a branch that ``gather``s is sorted by an expression no index serves. Whatever the engine does with
that, the pages must join up to the list ``case_list`` gives, ties in creation time included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Person
from cases.models import Case, CaseState
from listing.keyset import Part, ordered_keys
from workflow.selectors import case_list, case_list_parts

pytestmark = pytest.mark.django_db

STATES = list(CaseState.values)


def _spread(world: Any) -> None:
    """Cases of every state in every discipline department, over many subjects; creation times with ties."""
    departments = list(Organisation.objects.filter(kind=OrgKind.DISCIPLINE).order_by("id"))
    n = len(departments) * len(STATES)
    people = list(Person.objects.order_by("id"))
    today = timezone.localdate()
    decided = set(CaseState.decided())
    rows = []
    for i in range(n):
        state = STATES[(i // len(departments)) % len(STATES)]
        rows.append(Case(
            title=f"分支分页{i}", subject=people[(i * 7) % len(people)], accountability_org=departments[i % len(departments)],
            ruleset="zhangjiakou", conduct_date=dt.date(2024, 1, 1), matter_category="other", summary="情况", state=state,
            deadline=today - dt.timedelta(days=2) if i % 5 == 0 else today + dt.timedelta(days=20),
            decision_date=today - dt.timedelta(days=i) if state in decided else None, reference=f"容案2099-{i + 1:05d}"))
    made = Case.objects.bulk_create(rows)
    base = timezone.now().replace(microsecond=0)
    for i, case in enumerate(made):
        # Three cases share each creation time: a page boundary often falls inside a tie.
        Case.objects.filter(pk=case.pk).update(created_at=base - dt.timedelta(minutes=i // 3))
    _consult(world, made, base)


def _consult(world: Any, made: list[Case], base: Any) -> None:
    """The organisation department (and, once, the inspector's department) consulted on every third case,
    some of them twice (a second proposal round); then some consulted cases' creation times change, which
    the consultations' copy must follow."""
    from accounts.models import Membership
    from workflow.models import Consultation, Proposal

    orgdept = Membership.objects.filter(user=world.users["orgdept"], role="orgdept").first().organisation
    inspector_dept = Membership.objects.filter(user=world.users["inspector"], role="inspector").first().organisation
    by = world.users["inspector"]
    for i, case in enumerate(made[::3]):
        rounds = 2 if i % 4 == 0 else 1
        for r in range(1, rounds + 1):
            proposal = Proposal.objects.create(case=case, round=r, recommended_outcome="exempt", opinion="建议。",
                                               evaluation={}, proposed_by=by)
            Consultation.objects.create(proposal=proposal, case=case, organisation=orgdept)
            if i == 5 and r == 1:
                Consultation.objects.create(proposal=proposal, case=case, organisation=inspector_dept)
    for case in made[::9][:4]:
        Case.objects.filter(pk=case.pk).update(created_at=base + dt.timedelta(minutes=1, seconds=case.pk % 2))


def _expected(user: Any, filters: dict[str, str] | None = None) -> list[int]:
    return list(case_list(user, filters).order_by("-created_at", "-id").values_list("id", flat=True))


@pytest.mark.parametrize("username", ["inspector", "committee", "orgdept", "admin"])
@pytest.mark.parametrize("filters", [{}, {"state": f"{CaseState.PROPOSED},{CaseState.DECIDED}"}])
def test_api_pages_join_up_to_the_list_forward_and_back(world, api, username, filters):
    _spread(world)
    user = world.users[username]
    expected = _expected(user, filters)
    assert expected, "the data gives this user something to see"
    client = api(username)
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    pages = [client.get(f"/api/cases/?page_size=4&{query}").json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    assert [row["id"] for page in pages for row in page["results"]] == expected
    assert pages[0]["previous"] is None
    # Back from the last page, one page at a time, the same pages.
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert [[r["id"] for r in p["results"]] for p in reversed(back)] == [[r["id"] for r in p["results"]] for p in pages]


@pytest.mark.parametrize("username", ["inspector", "committee", "orgdept"])
def test_html_pages_join_up_overdue_first(world, username):
    _spread(world)
    user = world.users[username]
    overdue = set(case_list(user).filter(Case.objects.overdue_condition()).values_list("id", flat=True))
    expected = _expected(user)
    expected = [pk for pk in expected if pk in overdue] + [pk for pk in expected if pk not in overdue]
    client = Client()
    client.force_login(user)
    base = reverse("case-index")
    seen: list[int] = []
    url = base
    while True:
        page = client.get(url).context["page"]
        seen += [case.pk for case in page.rows]
        if not page.next_position:
            break
        url = f"{base}?after={page.next_position}"
    assert seen == expected


def test_ordered_keys_merges_parts_that_overlap_and_gather(world):
    _spread(world)
    cases = Case.objects.all()
    orgdept_like = cases.filter(state__in=CaseState.decided())
    recent = cases.filter(created_at__gte=timezone.now() - dt.timedelta(minutes=10))
    union = orgdept_like | recent
    expected = list(union.order_by("-created_at", "-id").values_list("created_at", "id")[:11])
    for gather in (False, True):
        parts = [Part(orgdept_like.order_by("id"), gather=gather), Part(recent.order_by("id"))]
        assert ordered_keys(union, "created_at", 11, parts=parts) == expected
        oldest = list(union.order_by("created_at", "id").values_list("created_at", "id")[:11])
        assert ordered_keys(union, "created_at", 11, descending=False, parts=parts) == oldest
    assert ordered_keys(union, "created_at", 11, parts=[]) == []
    assert ordered_keys(union, "created_at", 11) == expected


def test_a_state_filter_gathers_every_branch_and_the_orgdept_branch_always(world):
    committee, orgdept = world.users["committee"], world.users["orgdept"]
    assert all(p.gather for p in case_list_parts(committee, {"state": CaseState.PROPOSED}))
    assert not any(p.gather for p in case_list_parts(committee, {}))
    # The organisation department: its decided cases gather; the cases it was consulted on do not.
    parts = case_list_parts(orgdept, {})
    gathered = [p for p in parts if p.gather]
    assert len(parts) == 2 and len(gathered) == 1 and "managed_by_id" in str(gathered[0].qs.query)


def test_consultations_carry_their_cases_creation_time(world):
    _spread(world)
    from workflow.models import Consultation

    pairs = list(Consultation.objects.values_list("case_created_at", "case__created_at"))
    assert len(pairs) > 10 and all(copy == created for copy, created in pairs)
    consulted = Consultation.objects.first()
    Case.objects.filter(pk=consulted.case_id).update(created_at=timezone.now() - dt.timedelta(days=400))
    Consultation.objects.filter(pk=consulted.pk).update(case_created_at=timezone.now())  # no writer may set it
    for copy, created in Consultation.objects.filter(case_id=consulted.case_id).values_list(
            "case_created_at", "case__created_at"):
        assert copy == created


def test_the_consulted_branch_is_read_through_the_consultations(world):
    _spread(world)
    orgdept = world.users["orgdept"]
    parts = case_list_parts(orgdept, {})
    via = [p for p in parts if p.via is not None]
    assert len(via) == 1 and via[0].via.column == "case_created_at"
    # Its keys are the consulted cases' own, once each, newest first, from the consultations alone.
    keys = list(via[0].keys("created_at", 500, descending=True))
    cases = dict(Case.objects.filter(pk__in=[pk for _, pk in keys]).values_list("pk", "created_at"))
    assert keys == sorted({(cases[pk], pk) for _, pk in keys}, reverse=True)
    assert "workflow_consultation" in str(via[0].keys("created_at", 5, descending=True).query)
