"""Reads over cases, always starting from what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, IntegerField, Q, QuerySet, Value, When
from django.db.models import Case as Case_
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from accounts.models import Organisation, OrgKind, PartyKind, Person, Role, User
from accounts.selectors import (
    applying_units,
    case_authority,
    committee_of,
    orgs_with_role,
    people_of_applying_units,
    person_of,
    roles_of,
    subtree_sql,
    unit_authority,
)
from cases.models import Case, CaseState
from listing.keyset import Part
from rules.errors import RuleError
from rules.loader import registry

from .models import HistoryEntry, Notification
from .permissions import any_of_branches, scope_of, visibility_branches, visible_cases


class FilterError(ValueError):
    """A filter value the case list cannot use; the page shows it, the API answers 400 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def case_list_base(user: User) -> QuerySet[Case]:
    """Visible cases with what a list row shows, newest first."""
    return (visible_cases(user).select_related("subject__unit", "accountability_org", "handler", "applicant_unit")
            .order_by("-created_at", "-id"))


# What a list row shows (``CaseOutput``), read as plain values: a page of 50 rows read into model
# instances (a case, its subject, the subject's unit, two organisations and a handler each) cost three
# times as much Python as the same columns read as values.
CASE_ROW_FIELDS = (
    "id", "reference", "title", "ruleset", "conduct_date", "matter_category", "origin", "state", "outcome",
    "deadline", "created_at", "revision",
    "subject_id", "subject__kind", "subject__name", "subject__position", "subject__unit__name",
    "accountability_org_id", "accountability_org__name", "handler__username",
    "applicant_unit_id", "applicant_unit__name",
)


def case_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The list rows of these cases (``CASE_ROW_FIELDS``), in this order; ids already checked visible."""
    if not ids:
        return []
    # Unordered: the page's order is the ids' (the model's default order would sort them in the database).
    found = {row["id"]: row for row in Case.objects.filter(pk__in=ids).order_by().values(*CASE_ROW_FIELDS)}
    return [found[pk] for pk in ids if pk in found]


def _filtered(cases: QuerySet[Case], filters: Any) -> QuerySet[Case]:
    """``cases`` with the list's filters (``CaseFilter``) applied; ``FilterError`` names a bad value."""
    from .filters import CaseFilter

    data = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    filterset = CaseFilter(data, queryset=cases)
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise FilterError(field, str(errors[0]))
    return filterset.qs


def case_list(user: User, filters: Any = None) -> QuerySet[Case]:
    """Visible cases with the list's filters (``CaseFilter``) applied, newest first."""
    return _filtered(case_list_base(user), filters)


def case_list_parts(user: User, filters: Any = None) -> list[Part] | None:
    """The list ``case_list`` gives, once per branch of the user's visibility rule and in the order of the
    branch's own index, for its pages and its count (``listing.keyset``); None for the admin's list.

    Filtered by state (a queue of cases awaiting decision), every branch is read whole from its
    ``(…, state)`` index and sorted: cases in a few states are rare among the newest."""
    return case_list_and_parts(user, filters)[1]


def case_list_and_parts(user: User, filters: Any = None) -> tuple[QuerySet[Case], list[Part] | None]:
    """``case_list`` and ``case_list_parts`` together, the filters read once."""
    filtered = _filtered(Case.objects.all(), filters)
    branches = visibility_branches(user)
    listed = (filtered if branches is None else filtered.filter(any_of_branches(branches))) \
        .select_related("subject__unit", "accountability_org", "handler", "applicant_unit").order_by("-created_at", "-id")
    if branches is None:
        return listed, None
    by_state = bool((filters or {}).get("state"))
    # A branch read through another table (the consultations) asks whether each row it meets passes the
    # list's filters: cheap for the case's own columns, but a search or a unit is a join the planner would
    # rather run whole first (42,725 cases holding 马 at 1,000,000), so those lists read the branch by id.
    through = not any((filters or {}).get(name) for name in JOINING_FILTERS)
    return listed, [Part(filtered.filter(b.q).order_by(*b.index_order), gather=b.gather or by_state,
                         via=b.via if through else None, rows=filtered if b.via is not None and through else None)
                    for b in branches]


# The list filters (``CaseFilter``) that join other tables: the search (names of cadres and units) and the
# cadre's unit. With any of them, no branch is read through another table (``listing.keyset.Via``).
JOINING_FILTERS = ("q", "unit")


def overdue_first(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue cases first (across all pages), then newest."""
    overdue = Case_(When(Case.objects.overdue_condition(), then=Value(0)), default=Value(1),
                    output_field=IntegerField())
    return qs.annotate(_overdue_rank=overdue).order_by("_overdue_rank", "-created_at", "-id")


def units_for_filter(user: User) -> QuerySet[Organisation]:
    """The units a list may be narrowed to: those within the organisations the user works for.

    Bounded by the user's own part of the tree (their committee's subtree), never every unit of every
    province, so the filter stays short and the page light.
    """
    units = Organisation.objects.filter(kind__in=[OrgKind.UNIT, OrgKind.FUNCTIONAL]).order_by("name")
    scope = scope_of(user)
    if scope.is_admin:
        return units
    roots: set[int] = set()
    for membership in roles_of(user):
        committee = committee_of(membership.organisation)
        roots.add(committee.pk if committee is not None else membership.organisation_id)
    # One query: each root's subtree is a recursive subquery of it.
    within = Q(pk__in=[])
    for root in sorted(roots):
        within |= Q(pk__in=RawSQL(subtree_sql(), [root]))  # noqa: S611 - constant SQL, the id a parameter
    return units.filter(within)


def case_page_or_404(user: User, case_id: Any) -> Case:
    """One visible case for its page: with what the page shows beside it, and whether each part of the
    record has any rows (``case_part_present``), asked in the same query so the page reads only the
    parts that exist (a new case has few)."""
    case = case_get(user, case_id, related=CASE_PAGE_RELATED, parts=_case_parts(user))
    if case is None:
        raise Http404("未找到该案件，或您无权查看。")
    return case


def _case_parts(user: User) -> dict[str, RawSQL]:
    from cases.models import Evidence, Finding, Participant, Statement

    from .models import Appeal, CasePause, Decision, Draft, Proposal, Recusal, ReturnVisit

    tables = {"findings": Finding, "evidence": Evidence, "statements": Statement, "participants": Participant,
              "proposals": Proposal, "decisions": Decision, "appeals": Appeal, "recusals": Recusal,
              "return_visits": ReturnVisit, "pauses": CasePause, "drafts": Draft}
    case = Case._meta.db_table  # the outer query's own table names its row
    parts = {}
    for name, model in tables.items():
        # Written as SQL: ``Exists`` subqueries cost more to compile in Python than the database takes to answer.
        sql = f"EXISTS (SELECT 1 FROM {model._meta.db_table} p WHERE p.case_id = {case}.id"  # noqa: S608
        params = []
        if model is Draft:  # drafts are the user's own
            sql += " AND p.user_id = %s"
            params.append(user.pk)
        parts[f"present_{name}"] = RawSQL(sql + ")", params, output_field=BooleanField())  # noqa: S611
    return parts


def case_part_present(case: Case, part: str) -> bool:
    """Whether the case has rows of a part (its findings, evidence, drafts of this user...); True when
    the case was read without asking, so the caller reads the part as usual."""
    return getattr(case, f"present_{part}", True)


# What the doors read of a case beside the case itself.
CASE_RELATED = ("subject__unit", "subject__user", "accountability_org", "handler", "applicant", "applicant_unit")
# What the case page shows: every join costs the planner time on each request, so only these.
CASE_PAGE_RELATED = ("subject__unit", "accountability_org", "handler", "applicant_unit")


def case_or_404(user: User, case_id: Any, *, related: tuple[str, ...] = CASE_RELATED) -> Case:
    """One visible case, or 404 for every door: an id outside what the user sees is simply not found."""
    case = case_get(user, case_id, related=related)
    if case is None:
        raise Http404("未找到该案件，或您无权查看。")
    return case


def case_get(
    user: User, case_id: Any, *, related: tuple[str, ...] = CASE_RELATED, parts: dict[str, RawSQL] | None = None
) -> Case | None:
    """One visible case, or None (the door answers 404)."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        return None
    qs = visible_cases(user).select_related(*related)
    if parts:
        qs = qs.annotate(**parts)
    # One row by its key: no ordering to sort by.
    return qs.filter(pk=pk).order_by().first()


# What the cadre who is the subject may see of the history: the steps, not the internal reasoning.
PUBLIC_ACTIONS = frozenset({
    "start", "apply", "investigate", "propose", "decide", "execute", "appeal", "review_appeal", "close",
    "withdraw", "add_statement", "add_evidence",
})
PUBLIC_FIELDS = ("id", "at", "action", "from_state", "to_state", "actor_name", "via")


def case_history(case: Case) -> QuerySet[HistoryEntry]:
    return case.history.order_by("id")


def case_history_for(user: User, case: Case) -> tuple[list[HistoryEntry] | list[dict[str, Any]], bool]:
    """The history as this user may see it, and whether it is the full (internal) record."""
    from .permissions import sees_internal

    if sees_internal(user, case):
        return list(case_history(case)), True
    rows = case_history(case).filter(action__in=PUBLIC_ACTIONS).values(*PUBLIC_FIELDS)
    return list(rows), False


def pending_consultations(case: Case) -> list[Any]:
    """The latest proposal's consultation requests still awaiting a reply (neither answered nor withdrawn)."""
    from .models import Consultation

    return list(
        Consultation.objects.filter(proposal__case=case, replied_at__isnull=True, closed_at__isnull=True)
        .select_related("organisation").order_by("organisation__name")
    )


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def decision_reproduce(decision: Any) -> tuple[bool, str]:
    """Re-run a decision's stored evaluation under its pinned rule-set snapshot.

    Returns whether verdict, decisive clauses and every clause status came out the same, and a
    one-line explanation. Independent of the rule files on disk today.
    """
    from rules.engine import reproduce
    from rules.errors import RuleError

    from .models import PinnedRuleSet

    pin = PinnedRuleSet.objects.filter(content_hash=decision.ruleset_hash).first()
    if pin is None:
        return False, f"决定 #{decision.pk} 缺少规则版本快照 {decision.ruleset_hash[:19]}"
    inputs = decision.inputs or {}
    try:
        _, same = reproduce(decision.evaluation, inputs.get("findings", {}), facts=inputs.get("facts"),
                            snapshot=pin.snapshot)
    except RuleError as exc:
        return False, f"决定 #{decision.pk}：{exc}"
    if not same:
        return False, f"决定 #{decision.pk} 重新评估的结果与当时不一致"
    return True, f"决定 #{decision.pk} 可复现（{pin.ruleset}@{pin.version}）"


def party_cases(user: User) -> QuerySet[Case]:
    """The cases a user follows as a party: about themselves, about their unit, or applied for by their unit."""
    person = person_of(user)
    units = applying_units(user)
    mine = Q(subject=person) if person else Q(pk__in=[])
    if units:
        mine |= Q(applicant_unit__in=units) | Q(subject__kind=PartyKind.UNIT, subject__unit__in=units)
    if person is None and not units:
        return Case.objects.none()
    return case_list(user, {}).filter(mine)


@dataclass(frozen=True)
class ApplicationChoices:
    """What an application form offers this user: for whom, to which department, which situations."""

    people: QuerySet[Person] | None  # None: a cadre applying for themselves
    orgs: QuerySet[Organisation]
    default_org: Organisation | None
    situations: list[tuple[str, str]]


def application_choices(user: User) -> ApplicationChoices | None:
    """None when the user may not apply (neither a cadre nor a unit's officer)."""
    person = person_of(user)
    units = applying_units(user)
    if person is None and not units:
        return None
    if units:
        # The unit applies for one of its cadres: departments that may hold any of them accountable.
        acting: set[int] = set()
        for unit in units:
            acting |= unit_authority(unit).acting_ids
        people = people_of_applying_units(user)
        if person is not None:  # an officer who is also a cadre may still apply for themselves
            people = people | Person.objects.filter(pk=person.pk)
            acting |= case_authority(person).acting_ids
        people = people.order_by("name")
        # Situations come from the first unit's rule set; the service checks them against the chosen department.
        jurisdiction = units[0].jurisdiction
        default_org = unit_authority(units[0]).discipline
    else:
        authority = case_authority(person)
        acting, people = set(authority.acting_ids), None
        jurisdiction, default_org = person.unit.jurisdiction, authority.discipline
    try:
        version = registry().version_for(jurisdiction, timezone.localdate())
        situations = [(c.id, f"{c.title}（{c.citation}）：{c.text}" if c.citation else f"{c.title}：{c.text}")
                      for c in version.situations()]
    except RuleError:
        situations = []
    orgs = Organisation.objects.filter(pk__in=acting, kind__in=[OrgKind.DISCIPLINE, OrgKind.FUNCTIONAL])
    return ApplicationChoices(people=people, orgs=orgs, default_org=default_org, situations=situations)


# --- follow-through: return visits, clarifications, failures to tolerate --------------------------

def return_visits_for(user: User, case: Case) -> QuerySet:
    """The case's return visits; the caller already found the case visible (``case_or_404``)."""
    from .models import ReturnVisit

    return ReturnVisit.objects.filter(case=case).select_related("assignee").order_by("due_on", "id")


def return_visits_assigned(user: User) -> QuerySet:
    """Visits on the cases this user may see, for the 回访 list (due, overdue, done)."""
    from .models import ReturnVisit
    from .permissions import visible_cases

    return (ReturnVisit.objects.filter(case__in=visible_cases(user))
            .select_related("case__subject", "assignee").order_by("completed_at", "due_on", "id"))


VISIT_STATUSES = ("overdue", "due", "done")


def return_visits_filter(visits: QuerySet, params: Any) -> tuple[QuerySet, str]:
    """The 回访 list narrowed as the statistics counted a figure: cases started between ``from`` and ``to``,
    one rule set, and one group (overdue, due, done; returned for the page to pick). Bad values raise
    ValueError with a Chinese message naming the parameter."""
    from rules.dates import to_date
    from rules.errors import InvalidDateError

    status = (params.get("status") or "").strip()
    if status and status not in VISIT_STATUSES:
        raise ValueError("status 应为 overdue、due 或 done。")
    for name, label, lookup in (("from", "起始日期", "case__created_at__date__gte"),
                                ("to", "截止日期", "case__created_at__date__lte")):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                visits = visits.filter(**{lookup: to_date(raw, label)})
            except InvalidDateError:
                raise ValueError(f"{label}格式应为 YYYY-MM-DD，收到“{raw[:20]}”。") from None
    ruleset = (params.get("ruleset") or "").strip()
    if ruleset:
        visits = visits.filter(case__ruleset=ruleset)
    return visits, status


def dated_tasks_open(*, due_by: Any = None) -> list[dict[str, Any]]:
    """Open follow-up tasks with a due date (return visits not yet done), for the reminder check.

    Each: kind, id, case id, due date, and who must act. ``due_by`` limits them to those due by a date.
    """
    from .models import ReturnVisit

    qs = ReturnVisit.objects.filter(completed_at__isnull=True)
    if due_by is not None:
        qs = qs.filter(due_on__lte=due_by)
    return [
        {"kind": "return_visit", "id": pk, "case_id": case_id, "due_on": due_on, "user_id": assignee_id}
        for pk, case_id, due_on, assignee_id in qs.order_by("due_on", "id").values_list(
            "pk", "case_id", "due_on", "assignee_id")
    ]


def consultations_awaiting_reply(user: User) -> QuerySet:
    """The consultations the user's organisation departments have still to answer, on cases awaiting
    decision (the department's home page lists them)."""
    from .models import Consultation

    return Consultation.objects.filter(
        organisation__in=orgs_with_role(user, Role.ORGDEPT), replied_at__isnull=True, closed_at__isnull=True,
        case__state=CaseState.PROPOSED,
    ).select_related("case__subject", "proposal")  # the consultation's own case column, and when it was asked


def clarifications_visible(user: User) -> QuerySet:
    """Clarifications this user may see: those of the commissions and departments they serve in
    (and the ones below), and their own as the cadre cleared."""
    from .models import Clarification
    from .permissions import scope_of

    qs = Clarification.objects.select_related("person__unit", "organisation", "decided_by", "case")
    if not user.is_authenticated:
        return qs.none()
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    q = Q(organisation_id__in=scope.inspector_visible_org_ids)
    if scope.person_id is not None:
        q |= Q(person_id=scope.person_id)
    return qs.filter(q)


def clarifications_of(person: Any) -> QuerySet:
    """The clarifications made for one cadre, newest first: what the cleared cadre sees on their own page."""
    from .models import Clarification

    return Clarification.objects.filter(person=person).select_related("organisation").order_by("-decided_on", "-id")


def failures_visible(user: User) -> QuerySet:
    """Possible 应容未容 matters for the upper-level commission that reviews them (and the ones below it)."""
    from .models import FailureToTolerate
    from .permissions import scope_of

    qs = FailureToTolerate.objects.select_related("case__subject", "reviewer", "decision", "opened_case")
    if not user.is_authenticated:
        return qs.none()
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    return qs.filter(reviewer_id__in=scope.inspector_visible_org_ids)
