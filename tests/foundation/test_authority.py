"""Management authority: which organisations may act on a person's case."""

import pytest

from accounts.models import Organisation, OrgKind, OrgLevel, Person
from accounts.selectors import case_authority, people_visible_to, subtree_ids

pytestmark = pytest.mark.django_db


def test_zhangjiakou_cadre_is_decided_by_city_committee_and_filed_upward(world):
    authority = case_authority(world.people["cadre"])

    assert authority.committee == world.orgs["zjk"]
    assert authority.discipline == world.orgs["zjk_dc"]
    assert authority.orgdept == world.orgs["zjk_od"]
    assert authority.upper_discipline == world.orgs["hebei_dc"]
    assert authority.upper_orgdept == world.orgs["hebei_od"]
    assert authority.may_act(world.orgs["zjk_dc"])
    assert authority.may_act(world.orgs["zjk_audit"])  # 谁问责、谁容错: a functional department
    assert not authority.may_act(world.orgs["zz_dc"])
    assert not authority.may_act(world.orgs["hebei_dc"])


def test_henan_cadre_belongs_to_zhengzhou_committee(world):
    authority = case_authority(world.people["zz1"])

    assert authority.committee == world.orgs["zz"]
    assert authority.discipline == world.orgs["zz_dc"]
    assert not authority.may_act(world.orgs["zjk_dc"])


def test_explicit_managing_committee_on_person_overrides_the_unit(world):
    person = world.people["housing2"]
    person.managing_committee = world.orgs["hebei"]  # a cadre managed by the province (省管干部)
    person.save()

    authority = case_authority(person)

    assert authority.committee == world.orgs["hebei"]
    assert authority.discipline == world.orgs["hebei_dc"]
    assert authority.upper_discipline is None


def test_county_unit_is_managed_by_nearest_committee_above(world):
    county = Organisation.objects.create(
        name="中共张北县委", kind=OrgKind.COMMITTEE, level=OrgLevel.COUNTY, jurisdiction="zhangjiakou",
        parent=world.orgs["zjk"],
    )
    Organisation.objects.create(
        name="张北县纪委监委", kind=OrgKind.DISCIPLINE, level=OrgLevel.COUNTY, jurisdiction="zhangjiakou", parent=county
    )
    unit = Organisation.objects.create(
        name="张北县水务局", kind=OrgKind.UNIT, level=OrgLevel.COUNTY, jurisdiction="zhangjiakou", parent=county
    )
    person = Person.objects.create(name="赵某", unit=unit, position="局长")

    authority = case_authority(person)

    assert authority.committee == county
    assert authority.discipline.name == "张北县纪委监委"
    assert authority.upper_discipline == world.orgs["zjk_dc"]
    assert unit.pk in subtree_ids(world.orgs["zjk"])


def test_inspector_sees_only_people_of_own_committee(world):
    names = set(people_visible_to(world.users["inspector"]).values_list("name", flat=True))
    assert {"王某", "李某", "张某", "刘某"} <= names
    assert "陈某" not in names
    assert set(people_visible_to(world.users["inspector2"]).values_list("name", flat=True)) == {"陈某", "周某"}
    assert not people_visible_to(world.users["cadre"]).exists()
