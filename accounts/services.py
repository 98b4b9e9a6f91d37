"""Writes over users, organisations, memberships and persons (cadres and unit parties)."""

from __future__ import annotations

from .models import Membership, Organisation, PartyKind, Person, User


def organisation_upsert(
    *, name: str, kind: str, level: str, jurisdiction: str, parent: Organisation | None = None, short_name: str = ""
) -> Organisation:
    """Create or refresh an organisation, found by its name."""
    org, _ = Organisation.objects.update_or_create(
        name=name,
        defaults={"kind": kind, "level": level, "jurisdiction": jurisdiction, "parent": parent, "short_name": short_name},
    )
    return org


def user_upsert(*, username: str, password: str, full_name: str, is_superuser: bool = False) -> User:
    """Create or refresh a login and set its password; the system admin is also staff (the admin site)."""
    user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
    user.full_name = full_name
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.set_password(password)
    user.save()
    return user


def membership_grant(*, user: User, organisation: Organisation, role: str) -> Membership:
    """Give a user a role in an organisation (nothing changes if they hold it already)."""
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return membership


def person_upsert(
    *, name: str, unit: Organisation, position: str, rank: str, user: User | None = None
) -> Person:
    """Create or refresh a cadre, found by name and unit, optionally linked to their login."""
    person, _ = Person.objects.update_or_create(
        name=name, unit=unit, kind=PartyKind.CADRE, defaults={"position": position, "rank": rank, "user": user}
    )
    return person


def unit_party_ensure(unit: Organisation) -> Person:
    """The party that stands for a unit held accountable (被问责单位): one per organisation."""
    person, _ = Person.objects.update_or_create(
        kind=PartyKind.UNIT, unit=unit, defaults={"name": unit.name, "position": "", "rank": "", "user": None}
    )
    return person
