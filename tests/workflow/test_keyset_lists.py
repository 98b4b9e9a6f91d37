"""Keyset pages on the HTML lists, and the copy of where a case's subject is managed (both engines)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Person
from cases.models import Case, CaseState
from listing.keyset import COUNT_BOUND, Keyset, Part, bounded_count
from workflow.models import Notification

pytestmark = pytest.mark.django_db


def _cases(world, n: int) -> list[Case]:
    """``n`` cases of the inspector's department, some overdue, created an hour apart (bulk, no procedure)."""
    org = world.orgs["zjk_dc"]
    subject = Person.objects.filter(unit__parent=org.parent).first() or Person.objects.first()
    now = timezone.now()
    today = timezone.localdate()
    rows = [Case(title=f"分页事项{i}", subject=subject, accountability_org=org, ruleset="zhangjiakou",
                 conduct_date=dt.date(2024, 1, 1), matter_category="other", summary="情况",
                 state=CaseState.INVESTIGATING,
                 deadline=today - dt.timedelta(days=3) if i % 7 == 0 else today + dt.timedelta(days=30))
            for i in range(n)]
    made = Case.objects.bulk_create(rows)
    for i, case in enumerate(made):
        Case.objects.filter(pk=case.pk).update(created_at=now - dt.timedelta(hours=i))
    return made


def test_inbox_pages_join_up_overdue_first_and_come_back(world):
    _cases(world, 70)
    inspector = world.users["inspector"]
    from workflow.selectors import case_list

    expected = set(case_list(inspector).values_list("pk", flat=True))
    overdue = set(case_list(inspector).filter(Case.objects.overdue_condition()).values_list("pk", flat=True))
    client = Client()
    client.force_login(inspector)

    seen, urls, url = [], [], reverse("home")
    while url:
        response = client.get(url)
        assert response.status_code == 200
        urls.append(url)
        seen += [c.pk for c in response.context["rows"]]
        following = response.context["page"].next_position
        url = f"{reverse('home')}?after={following}" if following else ""
        assert len(urls) < 20
    assert len(urls) >= 3
    assert len(seen) == len(set(seen)) and set(seen) == expected
    ranks = [0 if pk in overdue else 1 for pk in seen]
    assert ranks == sorted(ranks) and 0 in ranks and 1 in ranks
    # Within each part, newest first.
    created = dict(Case.objects.filter(pk__in=seen).values_list("pk", "created_at"))
    for part in (0, 1):
        times = [created[pk] for pk, rank in zip(seen, ranks, strict=True) if rank == part]
        assert times == sorted(times, reverse=True)

    second = client.get(urls[1])
    html = second.content.decode()
    assert 'rel="prev"' in html and 'rel="next"' in html
    back = client.get(f"{reverse('home')}?before={second.context['page'].previous_position}")
    first = client.get(urls[0])
    assert [c.pk for c in back.context["rows"]] == [c.pk for c in first.context["rows"]]
    # The third page's previous link lands on the second page.
    third = client.get(urls[2])
    back = client.get(f"{reverse('home')}?before={third.context['page'].previous_position}")
    assert [c.pk for c in back.context["rows"]] == [c.pk for c in second.context["rows"]]
    assert f"共 {len(expected)} 件" in first.content.decode()


@pytest.mark.parametrize("position", ["not-a-position", "WzksIngiLDFd", "W1sxXSwiMjAyNiIsMV0", "%00", "A" * 500])
def test_a_broken_position_shows_the_first_page_with_a_message(world, position):
    _cases(world, 30)
    client = Client()
    client.force_login(world.users["inspector"])
    first = client.get(reverse("home"))
    for key in ("after", "before"):
        response = client.get(reverse("home"), {key: position})
        assert response.status_code == 200, (key, position)
        assert "翻页位置无效" in response.content.decode()
        assert [c.pk for c in response.context["rows"]] == [c.pk for c in first.context["rows"]]


def test_the_count_stops_at_its_bound():
    made = Organisation.objects.create(name="计数单位", kind=OrgKind.UNIT, level="city", jurisdiction="zhangjiakou")
    Person.objects.bulk_create([Person(name=f"计数{i}", unit=made) for i in range(COUNT_BOUND + 5)])
    assert bounded_count(Person.objects.filter(unit=made)) == (COUNT_BOUND, True)
    assert bounded_count(Person.objects.filter(unit=made, name="计数3")) == (1, False)
    # Counted in parts (a list's visibility branches): overlaps count once, and one part at the bound is enough.
    people = Person.objects.filter(unit=made)
    few = people.filter(name__in=["计数1", "计数2", "计数3"]).order_by("id")
    overlapping = people.filter(name__in=["计数3", "计数4"]).order_by("id")
    assert bounded_count(few | overlapping, parts=[Part(few), Part(overlapping)]) == (4, False)
    assert bounded_count(people, parts=[Part(few), Part(people.order_by("id"))]) == (COUNT_BOUND, True)
    assert bounded_count(people, parts=[Part(few)]) == (3, False)
    assert bounded_count(people, parts=[]) == (0, False)


def test_the_inbox_counts_each_branch_of_what_the_user_sees_once(world):
    # An inspector of the discipline commission who is also the subject of a case: two branches, one case in both.
    cases = _cases(world, 3)
    inspector = world.users["inspector"]
    Person.objects.filter(pk=cases[0].subject_id).update(user=inspector)
    client = Client()
    client.force_login(inspector)
    page = client.get(reverse("case-index")).context["page"]
    assert page.count == 3 and not page.more


def test_notices_page_in_fifties_newest_first(world):
    user = world.users["inspector"]
    Notification.objects.filter(user=user).delete()
    Notification.objects.bulk_create([Notification(user=user, text=f"通知{i:03d}") for i in range(120)])
    client = Client()
    client.force_login(user)
    texts, url = [], reverse("notifications")
    while url:
        response = client.get(url)
        assert response.status_code == 200
        texts += [n.text for n in response.context["items"]]
        following = response.context["page"].next_position
        url = f"{reverse('notifications')}?after={following}" if following else ""
    assert len(texts) == 120 and len(set(texts)) == 120


def test_where_the_subject_is_managed_follows_the_person(world):
    """Inserting a case, changing its subject, and moving the person all keep ``managed_by`` (triggers)."""
    _cases(world, 1)
    case = Case.objects.order_by("-id").first()
    subject = case.subject
    assert case.managed_by_id == (subject.managing_committee_id or subject.unit_id)
    committee = Organisation.objects.filter(kind=OrgKind.COMMITTEE).exclude(pk=subject.unit_id).first()
    Person.objects.filter(pk=subject.pk).update(managing_committee=committee)
    case.refresh_from_db()
    assert case.managed_by_id == committee.pk
    other = Person.objects.exclude(pk=subject.pk).exclude(unit=subject.unit).filter(managing_committee__isnull=True).first()
    case.subject = other
    case.save()
    case.refresh_from_db()
    assert case.managed_by_id == other.unit_id
    # A full save from a stale instance cannot wipe the copy.
    stale = Case.objects.get(pk=case.pk)
    stale.managed_by_id = None
    stale.save()
    stale.refresh_from_db()
    assert stale.managed_by_id == other.unit_id
    assert Case.objects.filter(pk=case.pk).managed_by_refresh() == 1


def test_keyset_refuses_a_segment_it_does_not_have():
    keyset = Keyset("created_at", size=10)
    with pytest.raises(ValueError):
        keyset.decode("WzUsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDFd")  # segment 5 of 1


@pytest.mark.parametrize("url_name,user", [("notifications", "inspector"), ("reports:filing-register", "orgdept")])
def test_other_keyset_lists_refuse_a_broken_position_in_words(world, url_name, user):
    client = Client()
    client.force_login(world.users[user])
    for key in ("after", "before"):
        response = client.get(reverse(url_name), {key: "bm90LWEtcG9zaXRpb24"})
        assert response.status_code == 200, (url_name, key)
        assert "翻页位置无效" in response.content.decode()


def test_the_unit_filter_lists_the_units_of_the_users_own_tree_in_one_query(world, django_assert_num_queries):
    from workflow.permissions import scope_of
    from workflow.selectors import units_for_filter

    inspector = world.users["inspector"]  # Zhangjiakou's discipline commission
    scope_of(inspector)  # as the list has it by then (its memberships included)
    with django_assert_num_queries(1):
        names = [u.name for u in units_for_filter(inspector)]
    assert "张家口市审计局" in names and "张家口市生态环境局" in names
    assert "郑州市交通运输局" not in names and "呼和浩特市水务局" not in names
    assert names == sorted(names)
    assert set(names) <= set(Organisation.objects.filter(kind__in=[OrgKind.UNIT, OrgKind.FUNCTIONAL])
                             .values_list("name", flat=True))
    page = Client()
    page.force_login(inspector)
    html = page.get(reverse("home")).content.decode()
    assert "张家口市生态环境局" in html and "郑州市交通运输局" not in html
