"""Reads over users, organisations and management authority (干部管理权限)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Membership, Organisation, OrgKind, PartyKind, Person, Role, User


def roles_of(user: User) -> list[Membership]:
    """The user's memberships with their organisations (one query)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        # With the parent and the managing committee: what ``committee_of`` reads, without a query per step.
        cached = list(Membership.objects.filter(user=user).select_related(
            "organisation__parent", "organisation__managing_committee"))
        user._memberships_cache = cached  # type: ignore[attr-defined]
    return cached


def role_names(user: User) -> list[str]:
    """The names of the user's roles, sorted; the system admin counts as the role ``admin``."""
    names = sorted({m.role for m in roles_of(user)})
    if user.is_authenticated and user.is_superuser and Role.ADMIN not in names:
        names.append(Role.ADMIN)
    return names


def orgs_with_role(user: User, role: str) -> list[Organisation]:
    """The organisations in which the user holds a role (e.g. the departments where they are orgdept)."""
    return [m.organisation for m in roles_of(user) if m.role == role]


def primary_organisation(user: User) -> Organisation | None:
    """The organisation of the user's first membership (for display and the actor's organisation)."""
    memberships = roles_of(user)
    return memberships[0].organisation if memberships else None


def person_of(user: User) -> Person | None:
    """The cadre record linked to this login, if any."""
    if not user.is_authenticated:
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def subtree_sql() -> str:
    """SQL listing the ids of an organisation (the one parameter) and every organisation below it."""
    table = Organisation._meta.db_table
    # UNION (not UNION ALL) stops at a cycle an admin might have made by accident.
    return (f"WITH RECURSIVE subtree(id) AS (SELECT id FROM {table} WHERE id = %s "  # noqa: S608 - table name
            f"UNION SELECT o.id FROM {table} o JOIN subtree s ON o.parent_id = s.id) SELECT id FROM subtree")


def subtree_ids(org: Organisation) -> set[int]:
    """The organisation and every organisation below it in the tree: one recursive query in the database."""
    with connections[Organisation.objects.db].cursor() as cursor:
        cursor.execute(subtree_sql(), [org.pk])
        return {row[0] for row in cursor.fetchall()}


def subtree(org: Organisation) -> QuerySet[Organisation]:
    """The organisation and those below it, as a queryset (the recursive query inside it)."""
    return Organisation.objects.filter(pk__in=RawSQL(subtree_sql(), [org.pk]))  # noqa: S611 - constant SQL


def committee_of(org: Organisation) -> Organisation | None:
    """The party committee holding management authority over people of ``org``.

    An explicit ``managing_committee`` wins; otherwise the organisation itself if it is a
    committee, else the nearest committee above it.
    """
    if org.managing_committee_id:
        return org.managing_committee
    if org.kind == OrgKind.COMMITTEE:
        return org
    # Walk up only as far as the nearest committee (each step above the loaded parent is a query).
    node, seen = org.parent, {org.pk}
    while node is not None and node.pk not in seen:
        if node.kind == OrgKind.COMMITTEE:
            return node
        seen.add(node.pk)
        node = node.parent
    return None


def managing_committee(person: Person) -> Organisation | None:
    """The committee with management authority over a person: their own, else their unit's."""
    if person.managing_committee_id:
        return person.managing_committee
    return committee_of(person.unit)


def organ_of(committee: Organisation | None, kind: str) -> Organisation | None:
    """The committee's own organ of a kind (its discipline commission or organisation department)."""
    if committee is None:
        return None
    return committee.children.filter(kind=kind).order_by("id").first()


@dataclass(frozen=True)
class CaseAuthority:
    """Which organisations may act on a person's case, and in what capacity."""

    committee: Organisation | None
    discipline: Organisation | None
    orgdept: Organisation | None
    upper_discipline: Organisation | None
    upper_orgdept: Organisation | None
    acting_ids: frozenset[int] = field(default_factory=frozenset)

    def may_act(self, org: Organisation) -> bool:
        return org.pk in self.acting_ids


def case_authority(person: Person) -> CaseAuthority:
    """Answer once, for every door: who decides, who handles, who receives the filing.

    The committee with management authority decides (集体研究决定); its discipline commission
    and organisation department handle and consult at the same level; the discipline commission
    and organisation department one level up receive the filing (备案).
    """
    if person.managing_committee_id:
        return _authority_of(org_chain(person.managing_committee_id))
    return unit_authority(person.unit)


def unit_authority(unit: Organisation) -> CaseAuthority:
    """The authority over the cadres of a unit who have no explicit managing committee."""
    if unit.managing_committee_id:
        return _authority_of(org_chain(unit.managing_committee_id))
    # ``committee_of`` over the chain already read: the unit itself if a committee, else the nearest above.
    chain = org_chain(unit.pk)
    at = next((i for i, org in enumerate(chain) if org.kind == OrgKind.COMMITTEE), len(chain))
    return _authority_of(chain[at:])


# Deeper than any real tree (province to village); only bounds the walk round an accidental cycle.
_CHAIN_LIMIT = 64


def org_chain(org_id: int) -> list[Organisation]:
    """An organisation and its parents, nearest first, in one recursive query.

    Stops where the chain meets an organisation already in it (a cycle an admin made by accident),
    as ``Organisation.ancestors`` does; each one's ``parent`` is the next, so reading it is no query.
    """
    table = Organisation._meta.db_table
    sql = (f"WITH RECURSIVE chain(id, parent_id, depth) AS (SELECT id, parent_id, 0 FROM {table} "  # noqa: S608
           f"WHERE id = %s UNION ALL SELECT o.id, o.parent_id, c.depth + 1 FROM {table} o "
           f"JOIN chain c ON o.id = c.parent_id WHERE c.depth < %s) "
           f"SELECT o.* FROM {table} o JOIN chain c ON o.id = c.id ORDER BY c.depth")
    chain: list[Organisation] = []
    seen: set[int] = set()
    for org in Organisation.objects.raw(sql, [org_id, _CHAIN_LIMIT]):
        if org.pk in seen:
            break
        seen.add(org.pk)
        chain.append(org)
    parent_field = Organisation._meta.get_field("parent")
    for child, parent in zip(chain, chain[1:], strict=False):
        parent_field.set_cached_value(child, parent)
    return chain


def _authority_of(chain: list[Organisation]) -> CaseAuthority:
    """The authority of the committee heading ``chain`` (followed by its parents, nearest first)."""
    committee = chain[0] if chain else None
    upper_committee = next((a for a in chain[1:] if a.kind == OrgKind.COMMITTEE), None)
    # Both committees' organs in one query; functional departments under the same committee may hold
    # accountability (谁问责、谁容错).
    wanted = Q(pk__in=[])
    if committee is not None:
        wanted |= Q(parent=committee, kind__in=[OrgKind.DISCIPLINE, OrgKind.ORGDEPT, OrgKind.FUNCTIONAL])
    if upper_committee is not None:
        wanted |= Q(parent=upper_committee, kind__in=[OrgKind.DISCIPLINE, OrgKind.ORGDEPT])
    organs = list(Organisation.objects.filter(wanted).order_by("id")) if committee is not None else []

    def organ(parent: Organisation | None, kind: str) -> Organisation | None:
        if parent is None:
            return None
        return next((o for o in organs if o.parent_id == parent.pk and o.kind == kind), None)

    discipline = organ(committee, OrgKind.DISCIPLINE)
    orgdept = organ(committee, OrgKind.ORGDEPT)
    acting = {o.pk for o in (committee, discipline, orgdept) if o is not None}
    if committee is not None:
        acting |= {o.pk for o in organs if o.parent_id == committee.pk and o.kind == OrgKind.FUNCTIONAL}
    return CaseAuthority(
        committee=committee,
        discipline=discipline,
        orgdept=orgdept,
        upper_discipline=organ(upper_committee, OrgKind.DISCIPLINE),
        upper_orgdept=organ(upper_committee, OrgKind.ORGDEPT),
        acting_ids=frozenset(acting),
    )


def people_visible_to(user: User) -> QuerySet[Person]:
    """Persons a user may pick as a case subject: those under the committees of their organisations."""
    if user.is_superuser:
        return Person.objects.select_related("unit")
    org_ids: set[int] = set()
    for role in (Role.INSPECTOR, Role.COMMITTEE, Role.ORGDEPT):
        for org in orgs_with_role(user, role):
            committee = committee_of(org)
            if committee is not None:
                org_ids |= subtree_ids(committee)
    return Person.objects.filter(unit_id__in=org_ids).select_related("unit")


def members_of(org: Organisation | int | None, role: str, *, active_only: bool = True) -> QuerySet[User]:
    """Users holding a role in an organisation (its inspectors, committee members, unit officers)."""
    if org is None:
        return User.objects.none()
    qs = User.objects.filter(memberships__organisation=org, memberships__role=role)
    return qs.filter(is_active=True) if active_only else qs


def applying_units(user: User) -> list[Organisation]:
    """Organisations for which the user submits applications on behalf of cadres (被问责干部所在单位)."""
    return orgs_with_role(user, Role.UNIT)


def people_of_applying_units(user: User) -> QuerySet[Person]:
    """Cadres a unit may apply for: those working in the unit or the organisations below it."""
    units = applying_units(user)
    org_ids: set[int] = set()
    for org in units:
        org_ids |= subtree_ids(org)
    # Cadres of the unit and the units below it; as a party, a unit applies only for itself.
    return (Person.objects.filter(unit_id__in=org_ids)
            .exclude(Q(kind=PartyKind.UNIT) & ~Q(unit_id__in=[o.pk for o in units])).select_related("unit"))


def applying_unit_for(user: User, person: Person) -> Organisation | None:
    """The user's unit that may apply for this person: the person's own unit or its nearest parent."""
    units = {org.pk for org in applying_units(user)}
    if person.is_unit:  # a unit held accountable applies for itself, not through its parent
        return person.unit if person.unit_id in units else None
    return next((org for org in [person.unit, *person.unit.ancestors()] if org.pk in units), None)


def two_factor_applies(user: User) -> bool:
    """Whether this user must pass a second factor (TOTP or a recovery code) before anything else:
    with TWO_FACTOR_REQUIRED on, superusers, staff (the admin site, the auditors) and the roles in
    TWO_FACTOR_ROLES (inspector, committee, orgdept, rule-set editor, admin)."""
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(m.role in settings.TWO_FACTOR_ROLES for m in roles_of(user))


def totp_device_of(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator (one per user), or the one being enrolled (``confirmed=False``)."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def recovery_device_of(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def recovery_codes_left(user: User) -> int:
    device = recovery_device_of(user)
    return device.token_set.count() if device else 0
