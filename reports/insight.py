"""Statistics (统计分析): aggregates over the cases a user may see, each a chart with its table.

Every figure is a GROUP BY in the database over ``visible_cases(user)`` narrowed by the period (the
date a case was started, the same bound as the case list's 起止日期, so a bar's count is the number
of cases its link lists), the rule set and the accountability department's subtree. Percentiles are
``percentile_cont`` on PostgreSQL; SQLite (development) computes them from the durations.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import role_names, subtree_ids
from cases.models import Case, CaseQuerySet, CaseState, Finding, FindingStatus, Outcome
from rules.errors import RuleError
from rules.loader import registry
from workflow.models import Appeal, AppealResult, Decision, DecisionKind, Proposal
from workflow.permissions import scope_of, visible_cases

TOLERATED = (Outcome.EXEMPT, Outcome.LIGHTER, Outcome.MITIGATED)
INSIGHT_ROLES = (Role.INSPECTOR, Role.COMMITTEE, Role.ORGDEPT)
VERDICTS = {"tolerable": "予以容错", "not_tolerable": "不予容错", "undetermined": "尚不能确定"}
MAX_YEARS = 10


class InsightError(ValueError):
    """A filter the statistics cannot use; the message names it in Chinese."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def may_use_insight(user: User) -> bool:
    """Committee members, organisation departments and discipline commissions (and the admin) see statistics."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or any(r in role_names(user) for r in INSIGHT_ROLES)


# --- filters ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InsightFilter:
    date_from: dt.date
    date_to: dt.date
    ruleset: str = ""
    organisation: Organisation | None = None

    def query(self) -> dict[str, str]:
        q = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.ruleset:
            q["ruleset"] = self.ruleset
        if self.organisation is not None:
            q["organisation"] = str(self.organisation.pk)
        return q

    @property
    def ruleset_title(self) -> str:
        return _ruleset_title(self.ruleset) if self.ruleset else ""

    @property
    def label(self) -> str:
        from rules.dates import cn_date

        return f"{cn_date(self.date_from)}至{cn_date(self.date_to)}"


def _date(value: str, name: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InsightError(f"{label}格式应为 YYYY-MM-DD，收到“{value[:20]}”。", name) from None


def organisations_for_insight(user: User) -> QuerySet[Organisation]:
    """Departments whose cases the user may narrow to: discipline commissions within the user's scope."""
    qs = Organisation.objects.filter(kind=OrgKind.DISCIPLINE).order_by("name")
    if user.is_superuser:
        return qs
    scope = scope_of(user)
    ids = scope.inspector_visible_org_ids | scope.committee_subtree_ids | scope.orgdept_subtree_ids
    return qs.filter(pk__in=ids)


def insight_filter(user: User, params: Any, *, today: dt.date | None = None) -> InsightFilter:
    """Read from/to/ruleset/organisation; default: the last twelve whole months and this one."""
    today = today or timezone.localdate()
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    for name, value in (("from", raw_from), ("to", raw_to), ("ruleset", params.get("ruleset") or ""),
                        ("organisation", params.get("organisation") or "")):
        if "\x00" in value:
            raise InsightError(f"参数 {name} 含有不允许的字符。", name)
    date_to = _date(raw_to, "to", "截止日期") if raw_to else today
    if raw_from:
        date_from = _date(raw_from, "from", "起始日期")
    else:
        date_from = (date_to.replace(day=1) - dt.timedelta(days=365)).replace(day=1)
    if date_from > date_to:
        raise InsightError("起始日期不能晚于截止日期。", "from")
    if (date_to - date_from).days > 366 * MAX_YEARS:
        raise InsightError(f"统计期间最长 {MAX_YEARS} 年。", "from")
    ruleset = (params.get("ruleset") or "").strip()
    if ruleset and ruleset not in registry().ids():
        raise InsightError(f"未知的适用规则：{ruleset[:40]}", "ruleset")
    org = None
    raw_org = (params.get("organisation") or "").strip()
    if raw_org:
        if not (raw_org.isascii() and raw_org.isdigit()) or len(raw_org) > 18:
            raise InsightError("问责部门应为组织编号。", "organisation")
        org = organisations_for_insight(user).filter(pk=int(raw_org)).first()
        if org is None:
            raise InsightError("所选问责部门不在您的查看范围内。", "organisation")
    return InsightFilter(date_from, date_to, ruleset, org)


def commission_subtree(org: Organisation) -> set[int]:
    """A discipline commission and the commissions below it (under its committee's tree)."""
    parent = org.parent
    if parent is None:
        return {org.pk}
    ids = subtree_ids(parent)
    below = set(Organisation.objects.filter(pk__in=ids, kind=OrgKind.DISCIPLINE).values_list("pk", flat=True))
    return below | {org.pk}


def insight_cases(user: User, f: InsightFilter) -> QuerySet[Case]:
    """The cases behind every figure: visible to the user, started in the period, narrowed by the filters."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(f.date_from, dt.time.min, tz)
    end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tz)
    qs = visible_cases(user).filter(created_at__gte=start, created_at__lt=end)
    if f.ruleset:
        qs = qs.filter(ruleset=f.ruleset)
    if f.organisation is not None:
        qs = qs.filter(accountability_org_id__in=commission_subtree(f.organisation))
    return qs


# --- charts -------------------------------------------------------------------------------------------

@dataclass
class Chart:
    """One figure: the chart's categories and series, the same numbers as a table, and where each bar leads."""

    id: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    categories: list[str] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    kind: str = "bar"
    note: str = ""

    @property
    def dom_id(self) -> str:
        return f"chart-data-{self.id}"

    def spec(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "categories": self.categories,
                "series": self.series, "links": self.links}


def _list_link(f: InsightFilter, **extra: str) -> str:
    """The case list filtered to a bar's cases (the list's filters: state, outcome, ruleset, from, to, overdue)."""
    q = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat()}
    if f.ruleset:
        q["ruleset"] = f.ruleset
    q.update(extra)
    return f"{reverse('case-index')}?{urlencode(q)}"


def _linkable(f: InsightFilter) -> bool:
    # The case list has no department filter: with one chosen here its counts would not match.
    return f.organisation is None


@dataclass
class Groups:
    """The case table read once: counts by state, outcome, rule set and department (with decided and
    overdue counts), and once more by month started and month decided. Every count chart sums these."""

    rows: list[dict[str, Any]]
    months: list[dict[str, Any]]

    def by(self, key: str, value: str = "n", where: Any = None) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for r in self.rows:
            if where is None or where(r):
                out[r[key]] = out.get(r[key], 0) + r[value]
        return out


def case_groups(qs: QuerySet[Case], *, today: dt.date | None = None) -> Groups:
    overdue = CaseQuerySet.overdue_condition(today or timezone.localdate())
    rows = list(qs.values("state", "outcome", "ruleset", "accountability_org_id").annotate(
        n=Count("id"), decided=Count("id", filter=Q(decision_date__isnull=False)),
        overdue=Count("id", filter=overdue)).order_by())
    months = list(qs.annotate(cm=TruncMonth("created_at"), dm=TruncMonth("decision_date")).values("cm", "dm").annotate(
        n=Count("id"), tolerated=Count("id", filter=Q(outcome__in=TOLERATED))).order_by())
    return Groups(rows, months)


def _counts(qs: QuerySet | Groups, key: str) -> dict[Any, int]:
    if isinstance(qs, Groups):
        return {k: v for k, v in qs.by(key).items() if v}
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("id")).order_by()}


def chart_states(qs: Groups, f: InsightFilter) -> Chart:
    counts = _counts(qs, "state")
    states = [s for s in CaseState if counts.get(s.value)]
    link = _linkable(f)
    return Chart("state", "按状态", ["状态", "案件数"], [[s.label, counts[s.value]] for s in states],
                 [s.label for s in states], [{"name": "案件数", "data": [counts[s.value] for s in states]}],
                 [_list_link(f, state=s.value) if link else None for s in states])


def chart_outcomes(qs: Groups, f: InsightFilter) -> Chart:
    counts = {k: v for k, v in qs.by("outcome").items() if k and v}
    outcomes = [o for o in Outcome if counts.get(o.value)]
    total = sum(counts.values()) or 1
    link = _linkable(f)
    return Chart("outcome", "按容错结论", ["结论", "案件数", "占已决定案件"],
                 [[o.label, counts[o.value], f"{counts[o.value] / total:.1%}"] for o in outcomes],
                 [o.label for o in outcomes], [{"name": "案件数", "data": [counts[o.value] for o in outcomes]}],
                 [_list_link(f, outcome=o.value) if link else None for o in outcomes])


def _ruleset_title(ruleset_id: str) -> str:
    try:
        return registry().family(ruleset_id).title
    except (RuleError, KeyError):
        return ruleset_id


def chart_rulesets(qs: Groups, f: InsightFilter) -> Chart:
    counts = _counts(qs, "ruleset")
    ids = sorted(counts, key=lambda r: (-counts[r], r))
    link = _linkable(f)
    titles = [_ruleset_title(r) for r in ids]
    return Chart("ruleset", "按适用规则", ["适用规则", "案件数"],
                 [[t, counts[r]] for t, r in zip(titles, ids, strict=True)], titles,
                 [{"name": "案件数", "data": [counts[r] for r in ids]}],
                 [_list_link(f, ruleset=r) if link else None for r in ids])


def chart_organisations(qs: Groups, f: InsightFilter, *, limit: int = 20) -> Chart:
    counts = qs.by("accountability_org_id")
    rows = [{"accountability_org_id": k, "n": counts[k]}
            for k in sorted(counts, key=lambda k: (-counts[k], k))[:limit]]
    names = dict(Organisation.objects.filter(pk__in=[r["accountability_org_id"] for r in rows])
                 .values_list("pk", "name"))
    labels = [names.get(r["accountability_org_id"], "") for r in rows]
    return Chart("organisation", f"按问责部门（前 {limit} 个）", ["问责部门", "案件数"],
                 [[label, r["n"]] for label, r in zip(labels, rows, strict=True)], labels,
                 [{"name": "案件数", "data": [r["n"] for r in rows]}], [None] * len(rows),
                 note="案件查询页没有按问责部门筛选，此图不链接到案件列表。")


def _months(f: InsightFilter) -> list[dt.date]:
    months, m = [], f.date_from.replace(day=1)
    while m <= f.date_to:
        months.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_key(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date().replace(day=1) if timezone.is_aware(value) else value.date().replace(day=1)
    return value.replace(day=1)


def chart_periods(qs: Groups, f: InsightFilter) -> tuple[Chart, Chart]:
    """Cases started per month, and decisions per month with the tolerance rate (by the decision's date)."""
    started: dict[dt.date, int] = {}
    decided: dict[dt.date, tuple[int, int]] = {}
    for r in qs.months:
        cm = _month_key(r["cm"])
        started[cm] = started.get(cm, 0) + r["n"]
        if r["dm"] is not None:
            dm = _month_key(r["dm"])
            n, t = decided.get(dm, (0, 0))
            decided[dm] = (n + r["n"], t + r["tolerated"])
    months = _months(f)
    labels = [f"{m.year}年{m.month}月" for m in months]
    link = _linkable(f)
    links = []
    for m in months:
        last = m.replace(day=calendar.monthrange(m.year, m.month)[1])
        lo, hi = max(m, f.date_from), min(last, f.date_to)
        links.append(_list_link(f, **{"from": lo.isoformat(), "to": hi.isoformat()}) if link else None)
    period = Chart("period", "按月份（启动案件数）", ["月份", "启动案件数"],
                   [[label, started.get(m, 0)] for label, m in zip(labels, months, strict=True)], labels,
                   [{"name": "启动案件数", "data": [started.get(m, 0) for m in months]}], links)
    rates = []
    rows = []
    for label, m in zip(labels, months, strict=True):
        n, t = decided.get(m, (0, 0))
        rate = round(100 * t / n, 1) if n else None
        rates.append(rate)
        rows.append([label, n, t, f"{rate}%" if rate is not None else "—"])
    tolerance = Chart("tolerance", "容错率（按决定月份）", ["月份", "决定数", "予以容错", "容错率"], rows, labels,
                      [{"name": "决定数", "data": [decided.get(m, (0, 0))[0] for m in months], "type": "bar"},
                       {"name": "容错率（%）", "data": rates, "type": "line", "axis": 1}], [None] * len(months),
                      kind="combo", note="容错率 = 予以容错（免责、从轻、减轻）÷ 当月作出的决定；只计本期间启动的案件。")
    return period, tolerance


# --- durations ---------------------------------------------------------------------------------------

class DaysBetween(Func):
    """Days from ``earlier`` to ``later`` as a float (datetimes or dates), per database."""

    output_field = FloatField()

    def __init__(self, later: Any, earlier: Any, *, dates: bool = False) -> None:
        super().__init__(later, earlier)
        self.dates = dates

    def as_sql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        later, lp = compiler.compile(self.source_expressions[0])
        earlier, ep = compiler.compile(self.source_expressions[1])
        if conn.vendor == "postgresql":
            sql = f"(({later}) - ({earlier}))::float" if self.dates else \
                f"(EXTRACT(EPOCH FROM (({later}) - ({earlier}))) / 86400.0)"
        else:
            sql = f"(julianday({later}) - julianday({earlier}))"
        return sql, [*lp, *ep]


class Percentile(Aggregate):
    """percentile_cont (PostgreSQL only)."""

    function = "percentile_cont"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, p: float) -> None:
        super().__init__(expression, p=float(p))


def _percentiles(qs: QuerySet, expression: Any) -> tuple[int, float | None, float | None]:
    qs = qs.annotate(days=expression).filter(days__isnull=False)
    if connection.vendor == "postgresql":
        r = qs.aggregate(n=Count("pk"), p50=Percentile(F("days"), 0.5), p90=Percentile(F("days"), 0.9))
        return r["n"], r["p50"], r["p90"]
    values = sorted(qs.values_list("days", flat=True))  # the SQLite fallback (development databases)
    if not values:
        return 0, None, None
    if len(values) == 1:
        return 1, values[0], values[0]
    q = statistics.quantiles(values, n=10, method="inclusive")
    return len(values), statistics.median(values), q[8]


def chart_durations(qs: QuerySet[Case], f: InsightFilter) -> Chart:
    stages = [
        ("启动至提出建议", Proposal.objects.filter(round=1, case__in=qs),
         DaysBetween(F("proposed_at"), F("case__created_at"))),
        ("提出建议至集体决定", Proposal.objects.filter(round=1, case__in=qs, case__decided_at__isnull=False),
         DaysBetween(F("case__decided_at"), F("proposed_at"))),
        ("决定至送达", qs.filter(delivered_on__isnull=False, decision_date__isnull=False),
         DaysBetween(F("delivered_on"), F("decision_date"), dates=True)),
        ("申诉至复核", Appeal.objects.filter(case__in=qs, review_decision__isnull=False),
         DaysBetween(F("review_decision__decided_at"), F("filed_at"))),
        ("启动至集体决定（全程）", qs.filter(decided_at__isnull=False), DaysBetween(F("decided_at"), F("created_at"))),
    ]
    rows, p50s, p90s = [], [], []
    for label, stage_qs, expr in stages:
        n, p50, p90 = _percentiles(stage_qs, expr)
        p50s.append(round(p50, 1) if p50 is not None else None)
        p90s.append(round(p90, 1) if p90 is not None else None)
        rows.append([label, n, p50s[-1] if p50 is not None else "—", p90s[-1] if p90 is not None else "—"])
    labels = [s[0] for s in stages]
    return Chart("duration", "各环节用时（天）", ["环节", "案件数", "中位数（天）", "第 90 百分位（天）"], rows, labels,
                 [{"name": "中位数", "data": p50s}, {"name": "第 90 百分位", "data": p90s}], [None] * len(stages))


def chart_overdue(qs: Groups, f: InsightFilter) -> Chart:
    counts = qs.by("state", "overdue")
    open_counts = qs.by("state")
    states = [s for s in CaseState if s.value in CaseState.in_progress()]
    link = _linkable(f)
    return Chart("overdue", "超期案件（按当前环节）", ["环节", "办理中", "其中超期"],
                 [[s.label, open_counts.get(s.value, 0), counts.get(s.value, 0)] for s in states],
                 [s.label for s in states],
                 [{"name": "办理中", "data": [open_counts.get(s.value, 0) for s in states]},
                  {"name": "超期", "data": [counts.get(s.value, 0) for s in states]}],
                 [_list_link(f, state=s.value, overdue="true") if link else None for s in states])


def _clause_name(clause_id: str) -> str:
    """The clause as people name it (title and article, from the latest version holding it), never its id."""
    from rules.presentation import clause_label

    ruleset = clause_id.split(".", 1)[0]
    try:
        for version in reversed(registry().family(ruleset).versions):
            if version.has_clause(clause_id):
                return f"{clause_label(version, clause_id)} · {version.title}"
    except (RuleError, KeyError, AttributeError):
        pass
    return "（规则集中已无此条款）"


def _clause_chart(chart_id: str, title: str, findings: QuerySet[Finding], marker: str, limit: int) -> Chart:
    rows = list(findings.filter(clause_id__contains=marker).values("clause_id").annotate(n=Count("id"))
                .order_by("-n", "clause_id")[:limit])
    names = [_clause_name(r["clause_id"]) for r in rows]
    labels = [name.split(" · ", 1)[0] for name in names]
    return Chart(chart_id, title, ["条款", "案件数"],
                 [[name, r["n"]] for name, r in zip(names, rows, strict=True)], labels,
                 [{"name": "案件数", "data": [r["n"] for r in rows]}], [None] * len(rows))


def chart_clauses(qs: QuerySet[Case], f: InsightFilter, *, limit: int = 12) -> tuple[Chart, Chart]:
    met = Finding.objects.filter(status=FindingStatus.MET)
    situations = _clause_chart("situation", "认定成立最多的容错情形（予以容错的案件）",
                               met.filter(case__in=qs.filter(outcome__in=TOLERATED)), ".S", limit)
    exclusions = _clause_chart("exclusion", "认定成立最多的不予容错情形（不予容错的案件）",
                               met.filter(case__in=qs.filter(outcome=Outcome.REFUSED)), ".X", limit)
    return situations, exclusions


def chart_departures(qs: QuerySet[Case], f: InsightFilter) -> Chart:
    decisions = Decision.objects.filter(case__in=qs)
    total = decisions.count()
    rows = list(decisions.exclude(override_reason="").values("kind", "outcome", verdict=KT("evaluation__verdict"))
                .annotate(n=Count("id")).order_by("-n", "kind", "outcome"))
    labels, table = [], []
    for r in rows:
        verdict = VERDICTS.get(r["verdict"] or "", r["verdict"] or "—")
        label = f"评估{verdict} → 决定{Outcome(r['outcome']).label}"
        labels.append(label)
        table.append([DecisionKind(r["kind"]).label, verdict, Outcome(r["outcome"]).label, r["n"]])
    departed = sum(r["n"] for r in rows)
    note = f"共 {total} 项决定，其中 {departed} 项与规则评估不一致（{departed / total:.1%}）。" if total else "本期间没有决定。"
    return Chart("departure", "与规则评估不一致的决定", ["决定类别", "规则评估", "决定结论", "决定数"], table, labels,
                 [{"name": "决定数", "data": [r["n"] for r in rows]}], [None] * len(rows), note=note)


def chart_appeals(qs: QuerySet[Case], f: InsightFilter) -> Chart:
    counts = {r["result"]: r["n"] for r in Appeal.objects.filter(case__in=qs).values("result")
              .annotate(n=Count("id")).order_by()}
    results = [("", "尚未复核"), (AppealResult.UPHELD, AppealResult.UPHELD.label),
               (AppealResult.OVERTURNED, AppealResult.OVERTURNED.label)]
    link = _linkable(f)
    links = [_list_link(f, state=CaseState.APPEALED) if link else None, None, None]
    return Chart("appeal", "申诉及复核结果", ["复核结果", "申诉数"], [[label, counts.get(k, 0)] for k, label in results],
                 [label for _, label in results], [{"name": "申诉数", "data": [counts.get(k, 0) for k, _ in results]}],
                 links)


@dataclass
class Insight:
    filter: InsightFilter
    total: int
    decided: int
    tolerated: int
    overdue: int
    charts: list[Chart]

    @property
    def tolerance_rate(self) -> str:
        return f"{self.tolerated / self.decided:.1%}" if self.decided else "—"

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.id == chart_id), None)


@contextlib.contextmanager
def _materialised(qs: QuerySet[Case]) -> Iterator[QuerySet[Case]]:
    """On PostgreSQL, the visible cases of the period are selected once into a temporary table that every
    figure joins, instead of each query re-evaluating the visibility rule (an OR over joins and subqueries
    the planner answers with a scan of the case table each time). Elsewhere the query is used as it is, and
    so on a read replica (config.db_router), where even a temporary table cannot be created."""
    if connection.vendor != "postgresql" or router.db_for_read(Case) != DEFAULT_DB_ALIAS:
        yield qs
        return
    sql, params = qs.order_by().values("id").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS insight_case_ids")
        cursor.execute(f"CREATE TEMPORARY TABLE insight_case_ids ON COMMIT DROP AS {sql}", params)  # noqa: S608 - Django's own SQL
        cursor.execute("ANALYZE insight_case_ids")
        yield Case.objects.filter(pk__in=RawSQL("SELECT insight_case_ids.id FROM insight_case_ids", []))


def insight_build(user: User, f: InsightFilter, *, today: dt.date | None = None) -> Insight:
    """Every figure of the dashboard (and of the annual report) for what ``user`` may see."""
    with _materialised(insight_cases(user, f)) as qs:
        return _insight(qs, f, today=today)


def _insight(qs: QuerySet[Case], f: InsightFilter, *, today: dt.date | None = None) -> Insight:
    groups = case_groups(qs, today=today)
    total = sum(groups.by("state").values())
    decided = sum(groups.by("state", "decided").values())
    tolerated = sum(groups.by("state", "decided", where=lambda r: r["outcome"] in TOLERATED).values())
    overdue = sum(groups.by("state", "overdue").values())
    period, tolerance = chart_periods(groups, f)
    situations, exclusions = chart_clauses(qs, f)
    charts = [chart_states(groups, f), chart_outcomes(groups, f), period, tolerance, chart_rulesets(groups, f),
              chart_organisations(groups, f), chart_durations(qs, f), chart_overdue(groups, f), situations,
              exclusions, chart_departures(qs, f), chart_appeals(qs, f)]
    return Insight(f, total, decided, tolerated, overdue, charts)


def chart_ids() -> Iterable[str]:
    return ("state", "outcome", "period", "tolerance", "ruleset", "organisation", "duration", "overdue", "situation",
            "exclusion", "departure", "appeal")


def charts_xlsx(charts: list[Chart], *, heading: str) -> bytes:
    """The charts' tables as a workbook, one sheet per chart, the first row saying what and for which period."""
    import io

    from openpyxl import Workbook  # only exports need it

    wb = Workbook(write_only=True)
    for chart in charts:
        ws = wb.create_sheet(title=chart.title[:31].replace("/", "、").replace("?", "").replace("*", ""))
        ws.append([f"{chart.title}（{heading}）"])
        if chart.note:
            ws.append([chart.note])
        ws.append(chart.headers)
        for row in chart.rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
