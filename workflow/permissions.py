"""Who may see and do what, asked by every door: pages, API, tasks and commands.

Visibility is a query (an id outside it is simply not found: 404). Whether a user may take an
action on a visible case is a named rule composed of the small predicates below (403 with the
rule's reason); whether the action is open in the case's state is the action table's business
(409, see ``workflow.actions``).

Two kinds of people outside the office receive a case's outcome, and they are not the same:
the **subject** is the one the case is about (the cadre, or the officers of a unit held
accountable as a unit); the **applying unit** is the cadre's unit that applied in writing on
the cadre's behalf. A **party** is either of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Organisation, OrgKind, PartyKind, Person, Role, User
from accounts.selectors import committee_of, managing_committee, members_of, roles_of, subtree, subtree_ids
from cases.models import Case, CaseState
from listing.keyset import Via

from .errors import NotAllowed, WrongState

_LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3}


@dataclass
class Scope:
    """What a user's memberships amount to, computed once per request."""

    user: User
    is_admin: bool = False
    inspector_org_ids: set[int] = field(default_factory=set)
    inspector_visible_org_ids: set[int] = field(default_factory=set)
    committee_ids: set[int] = field(default_factory=set)
    committee_subtree_ids: set[int] = field(default_factory=set)
    orgdept_org_ids: set[int] = field(default_factory=set)
    orgdept_subtree_ids: set[int] = field(default_factory=set)
    person_id: int | None = None
    # Units that apply on behalf of their cadres (被问责干部所在单位提出书面申请).
    unit_org_ids: set[int] = field(default_factory=set)

    @property
    def consult_org_ids(self) -> set[int]:
        return self.orgdept_org_ids | self.inspector_org_ids

    @property
    def internal(self) -> bool:
        return self.is_admin or bool(self.inspector_org_ids or self.committee_ids or self.orgdept_org_ids)


def _lower_departments(org: Organisation) -> set[int]:
    """The department itself and departments of its kind at lower levels under its committee."""
    committee = committee_of(org)
    ids = {org.pk}
    if committee is None:
        return ids
    rank = _LEVEL_RANK.get(org.level, 9)
    below = subtree(committee).filter(kind=org.kind).only("pk", "level")
    ids |= {o.pk for o in below if _LEVEL_RANK.get(o.level, 9) > rank}
    return ids


def scope_of(user: User) -> Scope:
    cached = getattr(user, "_workflow_scope", None)
    if cached is not None:
        return cached
    scope = Scope(user=user, is_admin=bool(user.is_authenticated and user.is_superuser))
    for m in roles_of(user):
        org = m.organisation
        if m.role == Role.INSPECTOR:
            scope.inspector_org_ids.add(org.pk)
            scope.inspector_visible_org_ids |= _lower_departments(org)
        elif m.role == Role.COMMITTEE and org.kind == OrgKind.COMMITTEE:
            scope.committee_ids.add(org.pk)
            scope.committee_subtree_ids |= subtree_ids(org)
        elif m.role == Role.ORGDEPT:
            scope.orgdept_org_ids.add(org.pk)
            committee = committee_of(org)
            if committee is not None:
                scope.orgdept_subtree_ids |= subtree_ids(committee)
        elif m.role == Role.UNIT:
            scope.unit_org_ids.add(org.pk)
    person = getattr(user, "person", None) if user.is_authenticated else None
    scope.person_id = person.pk if person is not None else None
    user._workflow_scope = scope  # type: ignore[attr-defined]
    return scope


def _managed_within(org_ids: set[int]) -> Q:
    """Cases whose subject is managed within a set of organisations (explicit managing committee first).

    Asked of the copy on the case (``Case.managed_by``, kept by triggers) so the planner reads the
    ``(managed_by, created_at)`` index instead of joining every person.
    """
    return Q(managed_by_id__in=org_ids)


def _ids_from(column: str, sql: str, params: list) -> Q:
    """``column`` among the ids a small query returns, as one index lookup (``cases.lookups.AnyOf``)."""
    return Q(**{f"{column}__any_of": RawSQL(sql, params)})  # noqa: S611 - constant SQL, values as parameters


def visible_cases(user: User, *, walking: bool = False) -> QuerySet[Case]:
    """Every case the user may see; start every lookup here.

    Each branch of the rule is one indexed column of the case table (or a small id list computed once
    per query), so a list reads indexes, never the whole table: see ``tests/workflow/test_list_plans.py``.

    ``walking``: the list reads one ordered index and tests each row it meets (the filing register walks
    decision dates). The consulted cases are then a subquery the database hashes once, so each row is
    tested in constant time; as an id list (the default, which combines with the other branches' indexes)
    each row would be compared with every id.
    """
    branches = visibility_branches(user, walking=walking)
    if branches is None:
        return Case.objects.all()
    return Case.objects.filter(any_of_branches(branches))


def any_of_branches(branches: list[Branch]) -> Q:
    """The condition a case meets when it is in any of these branches (none: no case)."""
    q = Q(pk__in=[])
    for branch in branches:
        q |= branch.q
    return q


@dataclass(frozen=True)
class Branch:
    """One branch of the visibility rule and the order of the index that serves it."""

    q: Q
    index_order: tuple[str, ...]
    # Its rows are rare among the newest (decided cases only): a page reads them whole from the index and
    # sorts them rather than walk the newest cases (``listing.keyset.Part``).
    gather: bool = False
    # Its keys come newest first from another table's copy of the order (``listing.keyset.Via``).
    via: Via | None = None


_NEWEST = ("-created_at", "-id")


def visibility_branches(user: User, *, walking: bool = False) -> list[Branch] | None:
    """The branches of ``visible_cases``' rule (None: the admin sees every case).

    A list counts its rows branch by branch, each read in its own index's order
    (``workflow.selectors.case_list_parts``): asked as one condition ORing them all, the planner may hope
    to meet a thousand matching rows early in one index and read all of it instead.
    """
    if not user.is_authenticated:
        return []
    scope = scope_of(user)
    if scope.is_admin:
        return None
    branches: list[Branch] = []
    if scope.inspector_visible_org_ids:
        branches.append(Branch(Q(accountability_org_id__in=scope.inspector_visible_org_ids),
                               ("accountability_org_id", "state", *_NEWEST)))  # case_org_state_idx
    if scope.committee_subtree_ids:
        # By state too, so that a queue of a few states (awaiting decision) reads only its own entries.
        branches.append(Branch(_managed_within(scope.committee_subtree_ids),
                               ("managed_by_id", "state")))  # case_managed_state_idx
    if scope.orgdept_subtree_ids:
        branches.append(Branch(_managed_within(scope.orgdept_subtree_ids) & Q(state__in=CaseState.decided()),
                               ("managed_by_id", "state"), gather=True))  # case_managed_state_idx
    if scope.consult_org_ids:
        from .models import Consultation

        # The cases each of the user's departments was consulted on: as a condition, ids read from
        # ``consultation_org_case_idx`` alone; for a page, newest first from ``consultation_org_created_idx``
        # (one branch per department, so that the index gives them in order).
        for org_id in sorted(scope.consult_org_ids):
            consultations = Consultation.objects.filter(organisation_id=org_id)
            consulted = consultations.values("case_id")
            branches.append(Branch(Q(id__in=consulted) if walking else Q(id__any_of=consulted), ("id",),
                                   via=Via(consultations, "case_created_at", "case_id")))
    if scope.person_id is not None:
        branches.append(Branch(Q(subject_id=scope.person_id), ("subject_id", *_NEWEST)))  # case_subject_created_idx
    if scope.unit_org_ids:
        # A unit sees the applications it submitted and the cases about itself as a unit held
        # accountable, never its cadres' other cases.
        branches.append(Branch(Q(applicant_unit_id__in=scope.unit_org_ids), ("applicant_unit_id",)))
        person = Person._meta.db_table
        marks = ", ".join(["%s"] * len(scope.unit_org_ids))
        branches.append(Branch(_ids_from(
            "subject_id", f"SELECT id FROM {person} WHERE kind = %s AND unit_id IN ({marks})",  # noqa: S608
            [PartyKind.UNIT, *sorted(scope.unit_org_ids)]), ("subject_id", *_NEWEST)))
    return branches


def _subject_managed_within(case: Case, org_ids: set[int]) -> bool:
    """The Python twin of ``_managed_within`` for one case already loaded."""
    subject = case.subject
    if subject.managing_committee_id:
        return subject.managing_committee_id in org_ids
    return subject.unit_id in org_ids


def sees_internal(user: User, case: Case) -> bool:
    """Internal opinions (findings' reasoning, proposal, consultations) are for officials acting on
    this case through their office, never for the cadre who is its subject."""
    scope = scope_of(user)
    if scope.is_admin:
        return True
    if _is_subject(scope, case):
        return False
    if case.accountability_org_id in scope.inspector_visible_org_ids:
        return True
    if scope.committee_subtree_ids and _subject_managed_within(case, scope.committee_subtree_ids):
        return True
    if (scope.orgdept_subtree_ids and case.state in CaseState.decided()
            and _subject_managed_within(case, scope.orgdept_subtree_ids)):
        return True
    if scope.consult_org_ids:
        from .models import Consultation

        return Consultation.objects.filter(case_id=case.pk, organisation_id__in=scope.consult_org_ids).exists()
    return False


def sees_party_material(user: User, case: Case) -> bool:
    """Statements, all evidence, recusals and the clause-by-clause sources are for officials and for
    the party the case is about (the cadre, or the unit held accountable). A unit that applied for one
    of its cadres is the cadre's employer, not the party: it sees what it filed and what is sent back
    (the feedback), never the cadre's own statements or the investigation's material."""
    return sees_internal(user, case) or _is_subject(scope_of(user), case)


def sees_evaluation(user: User, case: Case) -> bool:
    """The cadre sees the clause-by-clause grounds once the decision is made."""
    return sees_internal(user, case) or (case.state in CaseState.decided() and sees_party_material(user, case))


def _filed_by_applying_unit(case: Case, field: str) -> Q:
    """Rows filed for the applying unit: by whoever applied, or by its officers (never by the cadre)."""
    officers = members_of(case.applicant_unit_id, Role.UNIT, active_only=False)
    if case.subject.user_id:
        officers = officers.exclude(pk=case.subject.user_id)
    return Q(**{field: case.applicant_id}) | Q(**{f"{field}__in": officers})


def evidence_visible(user: User, case: Case) -> QuerySet:
    """The case's evidence this user may list and open: all of it, or what the applying unit filed."""
    if sees_party_material(user, case):
        return case.evidence.all()
    if _is_applicant_unit(scope_of(user), case):
        return case.evidence.filter(_filed_by_applying_unit(case, "uploaded_by"))
    return case.evidence.none()


def appeals_visible(user: User, case: Case) -> QuerySet:
    """Appeals with their reasons: all for the party and officials; the applying unit sees its own."""
    if sees_party_material(user, case):
        return case.appeals.all()
    if _is_applicant_unit(scope_of(user), case):
        return case.appeals.filter(_filed_by_applying_unit(case, "filed_by"))
    return case.appeals.none()


def _is_subject(scope: Scope, case: Case) -> bool:
    """The cadre the case is about, or an officer of the unit the case is about (被问责单位)."""
    if scope.person_id is not None and case.subject_id == scope.person_id:
        return True
    return bool(scope.unit_org_ids) and case.subject.is_unit and case.subject.unit_id in scope.unit_org_ids


def _is_applicant_unit(scope: Scope, case: Case) -> bool:
    return case.applicant_unit_id is not None and case.applicant_unit_id in scope.unit_org_ids


def is_party(user: User, case: Case) -> bool:
    """The subject or the applying unit: who receives the feedback and may appeal."""
    scope = scope_of(user)
    return _is_subject(scope, case) or _is_applicant_unit(scope, case)


# --- named predicates ------------------------------------------------------------------------------

class Access:
    """One user facing one case. Predicates are computed at most once per request, whichever
    actions ask for them (the page asks for all of them to draw its buttons)."""

    def __init__(self, user: User, case: Case) -> None:
        self.user = user
        self.case = case
        self.scope = scope_of(user)
        self._memo: dict[str, bool] = {}

    def holds(self, predicate: Predicate) -> bool:
        if predicate.name not in self._memo:
            self._memo[predicate.name] = predicate.test(self)
        return self._memo[predicate.name]

    @cached_property
    def latest_proposal(self) -> object | None:
        return self.case.proposals.order_by("-round").first()


@dataclass(frozen=True)
class Predicate:
    """A yes/no question about a user and a case, composable with ``&``, ``|`` and ``~`` into a rule."""

    name: str
    test: Callable[[Access], bool]

    def __and__(self, other: Predicate) -> Predicate:
        return Predicate(f"({self.name} & {other.name})", lambda a: a.holds(self) and a.holds(other))

    def __or__(self, other: Predicate) -> Predicate:
        return Predicate(f"({self.name} | {other.name})", lambda a: a.holds(self) or a.holds(other))

    def __invert__(self) -> Predicate:
        return Predicate(f"~{self.name}", lambda a: not a.holds(self))


def predicate(fn: Callable[[Access], bool]) -> Predicate:
    return Predicate(fn.__name__, fn)


@predicate
def is_admin(a: Access) -> bool:
    return a.scope.is_admin


@predicate
def is_accountability_inspector(a: Access) -> bool:
    """An inspector of the department that holds the cadre accountable (谁问责、谁容错)."""
    return a.case.accountability_org_id in a.scope.inspector_org_ids


@predicate
def is_subject(a: Access) -> bool:
    """The cadre the case is about, or an officer of the unit held accountable."""
    return _is_subject(a.scope, a.case)


@predicate
def is_applying_unit(a: Access) -> bool:
    """An officer of the unit that applied in writing on the cadre's behalf."""
    return _is_applicant_unit(a.scope, a.case)


@predicate
def applied_for_themselves(a: Access) -> bool:
    """The subject cadre who filed the application personally (no unit applied for them)."""
    return a.case.applicant_unit_id is None and a.case.applicant_id == a.user.pk


@predicate
def is_deciding_member(a: Access) -> bool:
    """A member of the party committee that holds management authority over the subject."""
    committee = managing_committee(a.case.subject)
    return committee is not None and committee.pk in a.scope.committee_ids


@predicate
def took_part(a: Access) -> bool:
    """Handled, investigated or proposed this case (separation of duties: may not vote)."""
    case, user = a.case, a.user
    return (case.handler_id == user.pk or case.findings.filter(recorded_by=user).exists()
            or case.proposals.filter(proposed_by=user).exists())


@predicate
def has_recused(a: Access) -> bool:
    return a.case.recusals.filter(member=a.user).exists()


@predicate
def has_pending_consultation(a: Access) -> bool:
    """The user's department was asked for its opinion on the latest proposal and has not replied."""
    proposal = a.latest_proposal
    return proposal is not None and proposal.consultations.filter(  # type: ignore[attr-defined]
        organisation_id__in=a.scope.consult_org_ids, replied_at__isnull=True, closed_at__isnull=True
    ).exists()


@dataclass(frozen=True)
class Rule:
    """Who may take an action: a predicate, and the reason given to whoever it refuses.

    ``also`` are further conditions, each with its own reason, checked in order after the first.
    """

    allows: Predicate
    refusal: str
    also: tuple[tuple[Predicate, str], ...] = ()

    def refusal_for(self, access: Access) -> str | None:
        if not access.holds(self.allows):
            return self.refusal
        for pred, reason in self.also:
            if not access.holds(pred):
                return reason
        return None


# --- the questions doors ask ----------------------------------------------------------------------

def action_check(user: User, action: str, case: Case, *, access: Access | None = None) -> None:
    """The one guard: state first (409), then who (403), then the action's own conditions (409)."""
    from .actions import ACTIONS  # the table imports the services, which call this guard

    spec = ACTIONS.get(action)
    if spec is None:
        raise WrongState(f"未知操作：{action}")
    if case.state not in spec.sources:
        raise WrongState(f"案件当前状态为“{case.get_state_display()}”，不能“{spec.label}”。")
    access = access or Access(user, case)
    refusal = spec.rule.refusal_for(access)
    if refusal is not None:
        raise NotAllowed(refusal)
    for condition in spec.conditions:
        problem = condition(access)
        if problem:
            raise WrongState(problem)


def allowed_actions(user: User, case: Case) -> list[str]:
    """The actions offered to this user on this case now; the page's forms and the API's list."""
    from .actions import ACTIONS

    access = Access(user, case)
    allowed = []
    for name, spec in ACTIONS.items():
        if not spec.offered:
            continue
        try:
            action_check(user, name, case, access=access)
        except (NotAllowed, WrongState):
            continue
        allowed.append(name)
    return allowed


def can_decide_but_for_consultations(user: User, case: Case) -> bool:
    """A member who may decide, were it not for consultations still awaiting a reply."""
    from .actions import ACTIONS

    spec = ACTIONS["decide"]
    return case.state in spec.sources and spec.rule.refusal_for(Access(user, case)) is None


def can(user: User, action: str, case: Case) -> bool:
    try:
        action_check(user, action, case)
    except (NotAllowed, WrongState):
        return False
    return True
