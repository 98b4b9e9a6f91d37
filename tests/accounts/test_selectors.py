"""Management authority (干部管理权限), roles and the persons a user may pick, from factories."""

import pytest

from accounts.models import OrgKind, OrgLevel, Role
from accounts.selectors import (
    applying_unit_for,
    case_authority,
    committee_of,
    managing_committee,
    members_of,
    orgs_with_role,
    people_of_applying_units,
    people_visible_to,
    person_of,
    primary_organisation,
    role_names,
    roles_of,
    subtree_ids,
    unit_authority,
)
from tests.factories import (
    CommitteeFactory,
    FunctionalFactory,
    MembershipFactory,
    PersonFactory,
    UnitFactory,
    UnitPartyFactory,
    UserFactory,
    inspector,
    member,
    organ,
)

pytestmark = pytest.mark.django_db


# --- management authority ------------------------------------------------------------------------

def test_the_committee_above_a_unit_decides_and_its_organs_handle():
    province = CommitteeFactory(level=OrgLevel.PROVINCE)
    city = CommitteeFactory(parent=province)
    unit = UnitFactory(parent=city)

    authority = case_authority(PersonFactory(unit=unit))

    assert authority.committee == city
    assert authority.discipline == organ(city, OrgKind.DISCIPLINE)
    assert authority.orgdept == organ(city, OrgKind.ORGDEPT)
    assert authority.upper_discipline == organ(province, OrgKind.DISCIPLINE)
    assert authority.upper_orgdept == organ(province, OrgKind.ORGDEPT)


def test_the_committee_and_its_organs_and_functional_departments_may_act_no_one_else():
    city = CommitteeFactory()
    audit = FunctionalFactory(parent=city)
    other = CommitteeFactory()

    authority = unit_authority(UnitFactory(parent=city))

    assert authority.acting_ids == {city.pk, organ(city, OrgKind.DISCIPLINE).pk, organ(city, OrgKind.ORGDEPT).pk,
                                    audit.pk}
    assert not authority.may_act(organ(other, OrgKind.DISCIPLINE))


def test_a_unit_below_a_unit_is_managed_by_the_nearest_committee_above():
    city = CommitteeFactory()
    bureau = UnitFactory(parent=city)
    station = UnitFactory(parent=bureau)

    assert committee_of(station) == city
    assert committee_of(city) == city


def test_an_explicit_managing_committee_on_the_unit_wins_over_the_tree():
    province = CommitteeFactory(level=OrgLevel.PROVINCE)
    unit = UnitFactory(managing_committee=province)

    assert committee_of(unit) == province
    assert case_authority(PersonFactory(unit=unit)).discipline == organ(province, OrgKind.DISCIPLINE)


def test_an_explicit_managing_committee_on_the_person_wins_over_the_unit():
    province = CommitteeFactory(level=OrgLevel.PROVINCE)
    person = PersonFactory(managing_committee=province)

    assert managing_committee(person) == province
    assert case_authority(person).upper_discipline is None


def test_a_committee_without_organs_has_no_one_to_handle():
    bare = CommitteeFactory(organs=False)

    authority = unit_authority(UnitFactory(parent=bare))

    assert authority.committee == bare
    assert authority.discipline is None and authority.orgdept is None
    assert authority.acting_ids == {bare.pk}


def test_subtree_holds_the_organisation_and_everything_below_it():
    city = CommitteeFactory()
    unit = UnitFactory(parent=city)
    sub = UnitFactory(parent=unit)
    elsewhere = UnitFactory()

    ids = subtree_ids(city)

    assert {city.pk, unit.pk, sub.pk} <= ids
    assert elsewhere.pk not in ids
    assert subtree_ids(unit) == {unit.pk, sub.pk}


# --- roles ---------------------------------------------------------------------------------------

def test_roles_come_from_memberships_and_the_first_is_the_primary_organisation():
    unit = UnitFactory()
    discipline = organ(unit.parent, OrgKind.DISCIPLINE)
    user = inspector(discipline)
    MembershipFactory(user=user, organisation=unit, role=Role.UNIT)

    assert [m.organisation for m in roles_of(user)] == [discipline, unit]
    assert role_names(user) == [Role.INSPECTOR, Role.UNIT]
    assert orgs_with_role(user, Role.UNIT) == [unit]
    assert primary_organisation(user) == discipline


def test_a_superuser_is_the_admin_even_without_memberships():
    admin = UserFactory(is_superuser=True)

    assert role_names(admin) == [Role.ADMIN]
    assert primary_organisation(admin) is None


def test_members_of_leaves_out_inactive_users_unless_asked():
    unit = UnitFactory()
    active = member(unit, Role.UNIT)
    gone = member(unit, Role.UNIT, is_active=False)
    member(unit, Role.CADRE)

    assert list(members_of(unit, Role.UNIT)) == [active]
    assert set(members_of(unit, Role.UNIT, active_only=False)) == {active, gone}
    assert not members_of(None, Role.UNIT).exists()


# --- persons -------------------------------------------------------------------------------------

def test_person_of_is_the_cadre_behind_a_login():
    cadre = PersonFactory(with_login=True)

    assert person_of(cadre.user) == cadre
    assert person_of(UserFactory()) is None


def test_an_inspector_may_pick_only_people_under_their_own_committee():
    unit = UnitFactory()
    ours = PersonFactory(unit=unit)
    below = PersonFactory(unit=UnitFactory(parent=unit))
    theirs = PersonFactory()

    visible = set(people_visible_to(inspector(organ(unit.parent, OrgKind.DISCIPLINE))))

    assert visible == {ours, below}
    assert theirs not in visible


def test_a_cadre_may_pick_no_one_and_a_superuser_anyone():
    cadre = PersonFactory(with_login=True)
    other = PersonFactory()

    assert not people_visible_to(cadre.user).exists()
    assert set(people_visible_to(UserFactory(is_superuser=True))) == {cadre, other}


def test_a_unit_applies_for_its_cadres_and_those_below_but_as_a_party_only_for_itself():
    unit = UnitFactory()
    sub = UnitFactory(parent=unit)
    cadre, sub_cadre = PersonFactory(unit=unit), PersonFactory(unit=sub)
    own_party, sub_party = UnitPartyFactory(unit=unit), UnitPartyFactory(unit=sub)
    PersonFactory(unit=UnitFactory(parent=unit.parent))  # a sibling unit's cadre
    officer = member(unit, Role.UNIT)

    assert set(people_of_applying_units(officer)) == {cadre, sub_cadre, own_party}
    assert applying_unit_for(officer, sub_cadre) == unit
    assert applying_unit_for(officer, own_party) == unit
    assert applying_unit_for(officer, sub_party) is None
