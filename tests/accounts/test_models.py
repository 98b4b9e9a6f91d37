"""What the database itself refuses for organisations, persons and memberships."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Organisation, PartyKind, Person, Role
from tests.factories import MembershipFactory, PersonFactory, UnitFactory, UnitPartyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_unit_has_one_party_standing_for_it():
    party = UnitPartyFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(kind=PartyKind.UNIT, name="另一个", unit=party.unit)

    assert Person.objects.filter(unit=party.unit, kind=PartyKind.UNIT).count() == 1


def test_a_unit_party_has_no_login():
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitPartyFactory(user=UserFactory())

    assert not Person.objects.filter(kind=PartyKind.UNIT).exists()


def test_many_cadres_of_one_unit_are_fine():
    unit = UnitFactory()

    PersonFactory.create_batch(2, unit=unit)
    UnitPartyFactory(unit=unit)

    assert unit.people.count() == 3


def test_an_organisation_is_not_its_own_parent():
    unit = UnitFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=unit.pk).update(parent=unit)

    unit.refresh_from_db()
    assert unit.parent != unit


def test_a_role_is_held_once_per_organisation():
    membership = MembershipFactory(role=Role.UNIT)

    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=membership.user, organisation=membership.organisation, role=Role.UNIT)

    MembershipFactory(user=membership.user, organisation=membership.organisation, role=Role.CADRE)
    assert membership.user.memberships.count() == 2


def test_ancestors_run_from_the_nearest_upward_and_survive_a_cycle():
    unit = UnitFactory()
    sub = UnitFactory(parent=unit)

    assert sub.ancestors() == [unit, unit.parent]

    Organisation.objects.filter(pk=unit.parent_id).update(parent=sub)  # a cycle written by hand
    assert [o.pk for o in Organisation.objects.get(pk=sub.pk).ancestors()] == [unit.pk, unit.parent_id]
