"""The statistics' summary table (``InsightTally``): computing its rows, keeping them exact, reading them.

``case_facts`` turns any set of cases into fact rows: the columns that scope and filter the dashboard
(start month, accountability department, where the subject is managed, rule set, state), a metric, a
category and a count. The same function fills the table cell by cell and computes, live, the few cases
the table cannot answer for (the partial months at the period's edges, cases seen through a
consultation), so the two always agree.

Metrics and their categories:

- ``case``: the outcome ('' before a decision); one row per state, outcome, rule set, department, month.
- ``decided``: ``YYYY-MM|t`` or ``YYYY-MM|n``: the decision's month, tolerated or not.
- ``open``: ``state|deadline`` for cases someone must act on; a deadline already past when the cell was
  computed is stored as ``past`` (it stays past), so overdue counts stay exact as days go by.
- ``dur1``…``dur5``: a stage's duration in whole days (rounded), see ``STAGES``.
- ``situation`` / ``exclusion``: the clause of a finding held met in a tolerated / refused case.
- ``decision``: every decision; ``departure``: ``kind|outcome|verdict`` of a decision that departed
  from the rules' evaluation.
- ``appeal``: the review's result ('' not yet reviewed).
- ``visit``: a return visit: ``done``, ``past`` (due before the cell was computed) or its due date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as DbCase
from django.db.models import Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Round, TruncMonth
from django.utils import timezone

from cases.models import Case, CaseState, Finding, FindingStatus, Outcome

from .models import InsightDirty, InsightTally

TOLERATED = (Outcome.EXEMPT, Outcome.LIGHTER, Outcome.MITIGATED)
DIMS = ("t_month", "t_org", "t_managed", "t_ruleset", "t_state")

Cell = tuple[dt.date, int]
# The state column of every metric but ``case``: decided (as ``CaseState.decided``) or not.
DECIDED, OPEN = "*decided", "*open"


def committees() -> dict[int, int]:
    """Every organisation's committee: itself if it is one, else the nearest committee above it (the table
    counts cases by the committee their subject is managed under, not by unit: fewer rows, same scoping)."""
    from accounts.models import Organisation, OrgKind

    orgs = {pk: (parent, kind) for pk, parent, kind in Organisation.objects.values_list("pk", "parent_id", "kind")}
    out: dict[int, int] = {}
    for pk in orgs:
        node: int | None = pk
        seen = 0
        while node is not None and node in orgs and orgs[node][1] != OrgKind.COMMITTEE and seen < 64:
            node, seen = orgs[node][0], seen + 1
        out[pk] = node if node is not None and node in orgs and orgs[node][1] == OrgKind.COMMITTEE else pk
    return out


def closed_under_committees(ids: set[int], committee: dict[int, int]) -> bool:
    """Whether a set of organisations is a union of whole committees' trees, so that asking "is the managing
    organisation in the set" and "is its committee in the set" give the same answer."""
    members: dict[int, set[int]] = {}
    for org, c in committee.items():
        members.setdefault(c, set()).add(org)
    for org in ids:
        c = committee.get(org, org)
        if c not in ids or not members.get(c, {c}) <= ids:
            return False
    return True


def month_of(value: Any) -> dt.date:
    """The first day of the (local) month of a datetime or date."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(month, dt.time.min, tz), dt.datetime.combine(_month_end(month), dt.time.min, tz)


def _dims(prefix: str) -> dict[str, Any]:
    return {
        "t_month": TruncMonth(f"{prefix}created_at"), "t_org": F(f"{prefix}accountability_org_id"),
        "t_managed": F(f"{prefix}managed_by_id"),  # the column the visibility rule reads (kept by triggers)
        "t_ruleset": F(f"{prefix}ruleset"), "t_state": F(f"{prefix}state"),
    }


def _grouped(qs: QuerySet, prefix: str, *fields: str, **extra: Any) -> Iterable[dict[str, Any]]:
    return qs.annotate(**_dims(prefix), **extra).values(*DIMS, *fields, *extra).annotate(t_n=Count("pk")).order_by()


def _days(later: str, earlier: str, *, dates: bool = False) -> Any:
    """Whole days between two columns, rounded (NULL when either is)."""
    from .insight import DaysBetween

    return Round(DaysBetween(F(later), F(earlier), dates=dates))


def case_facts(cases: QuerySet[Case], *, today: dt.date | None = None) -> Counter[tuple]:
    """Fact rows for a set of cases: ``(month, org, managed, ruleset, state, metric, key) -> count``.

    Six grouped queries, whatever the number of cases: the cases themselves (outcome, decision month,
    open deadline, two stage durations), first proposals (two durations), findings held met, decisions,
    appeals (result, review duration) and return visits.
    """
    from workflow.models import Appeal, Decision, Proposal, ReturnVisit

    today = today or timezone.localdate()
    cases = cases.order_by()
    out: Counter[tuple] = Counter()
    committee = committees()

    def put(r: dict[str, Any], metric: str, key: str) -> None:
        managed = committee.get(r["t_managed"], r["t_managed"])
        # Only the case counts need the state itself; the rest need only what the visibility rule asks.
        state = r["t_state"] if metric == "case" else (DECIDED if r["t_state"] in CaseState.decided() else OPEN)
        out[(month_of(r["t_month"]), r["t_org"], managed, r["t_ruleset"], state, metric, key)] += r["t_n"]

    def day(value: Any) -> str:
        return str(int(value))

    in_progress = list(CaseState.in_progress())
    for r in _grouped(cases, "", "outcome", t_dm=TruncMonth("decision_date"),
                      t_open=DbCase(When(state__in=in_progress, then=Value(True)), default=Value(False)),
                      t_deadline=DbCase(When(state__in=in_progress, then=F("deadline")), default=None),
                      t_d3=_days("delivered_on", "decision_date", dates=True), t_d5=_days("decided_at", "created_at")):
        put(r, "case", r["outcome"])
        if r["t_dm"] is not None:
            put(r, "decided", f"{month_of(r['t_dm']):%Y-%m}|{'t' if r['outcome'] in TOLERATED else 'n'}")
        if r["t_open"]:
            d = r["t_deadline"]
            put(r, "open", f"{r['t_state']}|{'' if d is None else 'past' if d < today else d.isoformat()}")
        if r["t_d3"] is not None:
            put(r, "dur3", day(r["t_d3"]))
        if r["t_d5"] is not None:
            put(r, "dur5", day(r["t_d5"]))
    for r in _grouped(Proposal.objects.filter(round=1, case__in=cases), "case__",
                      t_d1=_days("proposed_at", "case__created_at"), t_d2=_days("case__decided_at", "proposed_at")):
        put(r, "dur1", day(r["t_d1"]))
        if r["t_d2"] is not None:
            put(r, "dur2", day(r["t_d2"]))
    met = Finding.objects.filter(Q(case__outcome__in=TOLERATED, clause_id__contains=".S")
                                 | Q(case__outcome=Outcome.REFUSED, clause_id__contains=".X"),
                                 status=FindingStatus.MET, case__in=cases)
    for r in _grouped(met, "case__", "clause_id", t_outcome=F("case__outcome")):
        put(r, "situation" if r["t_outcome"] in TOLERATED else "exclusion", r["clause_id"])
    for r in _grouped(Decision.objects.filter(case__in=cases), "case__", "kind", "outcome",
                      t_verdict=KT("evaluation__verdict"),
                      t_departed=DbCase(When(override_reason="", then=Value(False)), default=Value(True))):
        put(r, "decision", "")
        if r["t_departed"]:
            put(r, "departure", f"{r['kind']}|{r['outcome']}|{r['t_verdict'] or ''}")
    for r in _grouped(Appeal.objects.filter(case__in=cases), "case__", "result",
                      t_d4=_days("review_decision__decided_at", "filed_at")):
        put(r, "appeal", r["result"])
        if r["t_d4"] is not None:
            put(r, "dur4", day(r["t_d4"]))
    for r in _grouped(ReturnVisit.objects.filter(case__in=cases), "case__", "due_on",
                      t_done=DbCase(When(completed_at__isnull=False, then=Value(True)), default=Value(False))):
        put(r, "visit", "done" if r["t_done"] else "past" if r["due_on"] < today else r["due_on"].isoformat())
    return out


def _rows(facts: Counter[tuple]) -> list[InsightTally]:
    return [InsightTally(month=m, org_id=o, managed_id=mg, ruleset=rs, state=st, metric=metric, key=key[:120], n=n)
            for (m, o, mg, rs, st, metric, key), n in facts.items() if n]


# --- keeping it exact ---------------------------------------------------------------------------------

def cell_mark(cells: Iterable[Cell]) -> None:
    """Mark cells as changed, in the caller's transaction (a no-op for a cell already marked)."""
    rows = [InsightDirty(month=m, org_id=o) for m, o in set(cells) if o is not None]
    if rows:
        InsightDirty.objects.bulk_create(rows, ignore_conflicts=True)


def cases_mark(case_ids: Iterable[int]) -> None:
    """Mark the cells of these cases as changed."""
    ids = [i for i in set(case_ids) if i is not None]
    if ids:
        cell_mark((month_of(c), o) for c, o in
                  Case.objects.filter(pk__in=ids).values_list("created_at", "accountability_org_id"))


FLUSH_BATCH = 200


def tally_flush() -> int:
    """Recompute every cell marked as changed; returns how many. The dashboard calls it before reading, so
    what it shows includes every committed change (a concurrent reader waits for a cell being recomputed);
    the statistics task calls it every minute, so a reader seldom finds much to do. Cells are recomputed
    together, a batch at a time: the same number of queries for one changed cell as for two hundred."""
    done = 0
    while True:
        with transaction.atomic():
            dirty = list(InsightDirty.objects.select_for_update().order_by("month", "org_id")[:FLUSH_BATCH])
            if not dirty:
                return done
            cells = Q(pk__in=[])
            cases = Q(pk__in=[])
            for cell in dirty:
                start, end = _bounds(cell.month)
                cells |= Q(month=cell.month, org_id=cell.org_id)
                cases |= Q(accountability_org_id=cell.org_id, created_at__gte=start, created_at__lt=end)
            InsightTally.objects.filter(cells).delete()
            InsightTally.objects.bulk_create(_rows(case_facts(Case.objects.filter(cases))), batch_size=2000)
            InsightDirty.objects.filter(pk__in=[c.pk for c in dirty]).delete()
            done += len(dirty)


def tally_rebuild(months: Iterable[dt.date] | None = None) -> int:
    """Recompute whole months (all of them by default) from the case table; returns the rows written."""
    if months is None:
        months = sorted({month_of(c) for c in Case.objects.annotate(m=TruncMonth("created_at"))
                         .values_list("m", flat=True).distinct().order_by()})
        with transaction.atomic():
            InsightTally.objects.all().delete()
    written = 0
    for month in months:
        start, end = _bounds(month)
        with transaction.atomic():
            InsightTally.objects.filter(month=month).delete()
            InsightDirty.objects.filter(month=month).delete()
            rows = _rows(case_facts(Case.objects.filter(created_at__gte=start, created_at__lt=end)))
            InsightTally.objects.bulk_create(rows, batch_size=5000)
            written += len(rows)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # fresh statistics and visibility map: index-only reads
            cursor.execute("VACUUM ANALYZE reports_insighttally")
    return written


def tally_check() -> list[dt.date]:
    """Months whose case count in the table differs from the case table (rows written in bulk, bypassing
    the marks, e.g. generated data); they are rebuilt. Returns them."""
    cases = Counter({month_of(r["m"]): r["n"] for r in Case.objects.annotate(m=TruncMonth("created_at"))
                     .values("m").annotate(n=Count("id")).order_by()})
    tallied: Counter[dt.date] = Counter()
    for r in InsightTally.objects.filter(metric="case").values("month").annotate(n=Sum("n")).order_by():
        tallied[r["month"]] += r["n"]
    wrong = sorted(m for m in set(cases) | set(tallied) if cases[m] != tallied[m])
    if wrong:
        tally_rebuild(wrong)
    tally_flush()
    return wrong


# --- reading it ---------------------------------------------------------------------------------------

def tally_read(where: Q, months: tuple[dt.date, dt.date]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The table's sums for the rows in scope and in the months ``[first, last]``: the case counts by state,
    outcome, rule set, department and month, and every other metric by category."""
    rows = InsightTally.objects.filter(where, month__gte=months[0], month__lte=months[1])
    cases = list(rows.filter(metric="case").values("state", "key", "ruleset", "org_id", "month")
                 .annotate(n=Sum("n")).order_by())
    other = list(rows.exclude(metric="case").values("metric", "key").annotate(n=Sum("n")).order_by())
    return cases, other


# --- marking changes ----------------------------------------------------------------------------------

def _case_init(sender: Any, instance: Case, **kwargs: Any) -> None:
    # What the case was loaded with (deferred fields are not fetched for this).
    instance._tally_org = instance.__dict__.get("accountability_org_id")  # type: ignore[attr-defined]


def _case_changed(sender: Any, instance: Case, **kwargs: Any) -> None:
    created_at, org_id = instance.__dict__.get("created_at"), instance.__dict__.get("accountability_org_id")
    if created_at is None or org_id is None:
        cases_mark([instance.pk])
        return
    cells = {(month_of(created_at), org_id)}
    before = getattr(instance, "_tally_org", None)
    if before is not None and before != org_id:
        cells.add((month_of(created_at), before))
    cell_mark(cells)
    instance._tally_org = org_id  # type: ignore[attr-defined]


def _part_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    cases_mark([instance.case_id])


def _person_init(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._tally_managed = (instance.__dict__.get("managing_committee_id"), instance.__dict__.get("unit_id"))


def _person_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """A cadre moved (unit or managing committee): their cases now count where they are managed."""
    now = (instance.__dict__.get("managing_committee_id"), instance.__dict__.get("unit_id"))
    if not created and getattr(instance, "_tally_managed", now) != now:
        cell_mark((month_of(c), o) for c, o in
                  Case.objects.filter(subject_id=instance.pk).values_list("created_at", "accountability_org_id"))
    instance._tally_managed = now


def _org_init(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._tally_place = (instance.__dict__.get("parent_id"), instance.__dict__.get("kind"))


def _org_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """An organisation moved in the tree (or became or ceased to be a committee): the cases of the cadres
    managed below it may now count under another committee."""
    from accounts.selectors import subtree_ids

    now = (instance.__dict__.get("parent_id"), instance.__dict__.get("kind"))
    if not created and getattr(instance, "_tally_place", now) != now:
        ids = subtree_ids(instance)
        below = Case.objects.filter(Q(subject__unit_id__in=ids) | Q(subject__managing_committee_id__in=ids))
        cell_mark((month_of(c), o) for c, o in below.values_list("created_at", "accountability_org_id"))
    instance._tally_place = now


def connect() -> None:
    """Mark the cells of changed cases in the same transaction as the change (``ReportsConfig.ready``)."""
    from django.db.models.signals import post_delete, post_init, post_save

    from accounts.models import Organisation, Person
    from workflow.models import Appeal, Decision, Proposal, ReturnVisit

    post_init.connect(_case_init, sender=Case, dispatch_uid="tally_case_init")
    post_save.connect(_case_changed, sender=Case, dispatch_uid="tally_case_save")
    post_delete.connect(_case_changed, sender=Case, dispatch_uid="tally_case_delete")
    for model in (Finding, Proposal, Decision, Appeal, ReturnVisit):
        post_save.connect(_part_changed, sender=model, dispatch_uid=f"tally_{model.__name__}_save")
        post_delete.connect(_part_changed, sender=model, dispatch_uid=f"tally_{model.__name__}_delete")
    post_init.connect(_org_init, sender=Organisation, dispatch_uid="tally_org_init")
    post_save.connect(_org_changed, sender=Organisation, dispatch_uid="tally_org_save")
    post_init.connect(_person_init, sender=Person, dispatch_uid="tally_person_init")
    post_save.connect(_person_changed, sender=Person, dispatch_uid="tally_person_save")
