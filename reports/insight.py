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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.db.models import FloatField, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, OrgKind, PartyKind, Role, User
from accounts.selectors import role_names, subtree_ids
from cases.models import Case, CaseState, Outcome
from rules.errors import RuleError
from rules.loader import registry
from workflow.models import AppealResult, DecisionKind
from workflow.permissions import scope_of, visible_cases

from .models import InsightDirty
from .tally import DECIDED, closed_under_committees, committees

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


CASE_FIELDS = ("state", "outcome", "ruleset", "org", "month")


@dataclass
class Facts:
    """What every figure is summed from: case counts by state, outcome, rule set, department and start month,
    and the other metrics by category (see ``reports.tally``), from the summary table and the live rest."""

    cases: Counter[tuple] = field(default_factory=Counter)
    other: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add_tally(self, cases: list[dict[str, Any]], other: list[dict[str, Any]]) -> None:
        for r in cases:
            self.cases[(r["state"], r["key"], r["ruleset"], r["org_id"], r["month"])] += r["n"]
        for r in other:
            self.other[(r["metric"], r["key"])] += r["n"]

    def add_live(self, facts: Counter[tuple]) -> None:
        for (month, org, _managed, ruleset, state, metric, key), n in facts.items():
            if metric == "case":
                self.cases[(state, key, ruleset, org, month)] += n
            else:
                self.other[(metric, key)] += n

    def by(self, name: str) -> dict[Any, int]:
        i = CASE_FIELDS.index(name)
        out: dict[Any, int] = {}
        for k, n in self.cases.items():
            if n:
                out[k[i]] = out.get(k[i], 0) + n
        return out

    def metric(self, name: str) -> dict[str, int]:
        return {k: n for (m, k), n in self.other.items() if m == name and n}

    def open_counts(self, today: dt.date) -> tuple[dict[str, int], dict[str, int]]:
        """Cases someone must act on by state, and those of them past their stage deadline."""
        open_, overdue = {}, {}
        for key, n in self.metric("open").items():
            state, deadline = key.split("|", 1)
            open_[state] = open_.get(state, 0) + n
            if deadline == "past" or (deadline and deadline < today.isoformat()):
                overdue[state] = overdue.get(state, 0) + n
        return open_, overdue


def chart_states(facts: Facts, f: InsightFilter) -> Chart:
    counts = facts.by("state")
    states = [s for s in CaseState if counts.get(s.value)]
    link = _linkable(f)
    return Chart("state", "按状态", ["状态", "案件数"], [[s.label, counts[s.value]] for s in states],
                 [s.label for s in states], [{"name": "案件数", "data": [counts[s.value] for s in states]}],
                 [_list_link(f, state=s.value) if link else None for s in states])


def chart_outcomes(facts: Facts, f: InsightFilter) -> Chart:
    counts = {k: v for k, v in facts.by("outcome").items() if k}
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


def chart_rulesets(facts: Facts, f: InsightFilter) -> Chart:
    counts = facts.by("ruleset")
    ids = sorted(counts, key=lambda r: (-counts[r], r))
    link = _linkable(f)
    titles = [_ruleset_title(r) for r in ids]
    return Chart("ruleset", "按适用规则", ["适用规则", "案件数"],
                 [[t, counts[r]] for t, r in zip(titles, ids, strict=True)], titles,
                 [{"name": "案件数", "data": [counts[r] for r in ids]}],
                 [_list_link(f, ruleset=r) if link else None for r in ids])


def chart_organisations(facts: Facts, f: InsightFilter, *, limit: int = 20) -> Chart:
    counts = facts.by("org")
    top = sorted(counts, key=lambda k: (-counts[k], k))[:limit]
    names = dict(Organisation.objects.filter(pk__in=top).values_list("pk", "name"))
    labels = [names.get(k, "") for k in top]
    return Chart("organisation", f"按问责部门（前 {limit} 个）", ["问责部门", "案件数"],
                 [[label, counts[k]] for label, k in zip(labels, top, strict=True)], labels,
                 [{"name": "案件数", "data": [counts[k] for k in top]}], [None] * len(top),
                 note="案件查询页没有按问责部门筛选，此图不链接到案件列表。")


def _months(f: InsightFilter) -> list[dt.date]:
    months, m = [], f.date_from.replace(day=1)
    while m <= f.date_to:
        months.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    return months


def chart_periods(facts: Facts, f: InsightFilter) -> tuple[Chart, Chart]:
    """Cases started per month, and decisions per month with the tolerance rate (by the decision's date)."""
    started = facts.by("month")
    decided: dict[dt.date, tuple[int, int]] = {}
    for key, count in facts.metric("decided").items():
        month, tolerated = key.split("|")
        m = dt.date.fromisoformat(f"{month}-01")
        n, t = decided.get(m, (0, 0))
        decided[m] = (n + count, t + (count if tolerated == "t" else 0))
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


def histogram_percentile(histogram: dict[int, int], p: float) -> float | None:
    """``percentile_cont(p)`` of the values a histogram (value -> how many) stands for."""
    total = sum(histogram.values())
    if not total:
        return None
    position = p * (total - 1)
    lo_rank, hi_rank = int(position), min(int(position) + 1, total - 1)
    values = sorted(histogram)

    def value_at(rank: int) -> int:
        seen = 0
        for value in values:
            seen += histogram[value]
            if seen > rank:
                return value
        return values[-1]

    lo, hi = value_at(lo_rank), value_at(hi_rank)
    return lo + (hi - lo) * (position - lo_rank)


STAGE_LABELS = ("启动至提出建议", "提出建议至集体决定", "决定至送达", "申诉至复核", "启动至集体决定（全程）")


def chart_durations(facts: Facts, f: InsightFilter) -> Chart:
    rows, p50s, p90s = [], [], []
    for i, label in enumerate(STAGE_LABELS, start=1):
        histogram = {int(k): n for k, n in facts.metric(f"dur{i}").items()}
        p50, p90 = histogram_percentile(histogram, 0.5), histogram_percentile(histogram, 0.9)
        p50s.append(round(p50, 1) if p50 is not None else None)
        p90s.append(round(p90, 1) if p90 is not None else None)
        rows.append([label, sum(histogram.values()), p50s[-1] if p50 is not None else "—",
                     p90s[-1] if p90 is not None else "—"])
    return Chart("duration", "各环节用时（天）", ["环节", "案件数", "中位数（天）", "第 90 百分位（天）"], rows,
                 list(STAGE_LABELS), [{"name": "中位数", "data": p50s}, {"name": "第 90 百分位", "data": p90s}],
                 [None] * len(STAGE_LABELS), note="各案用时按整天计（四舍五入）后取中位数和第 90 百分位。")


def chart_overdue(facts: Facts, f: InsightFilter, today: dt.date) -> Chart:
    open_counts, counts = facts.open_counts(today)
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


def _clause_chart(chart_id: str, title: str, counts: dict[str, int], limit: int) -> Chart:
    top = sorted(counts, key=lambda c: (-counts[c], c))[:limit]
    names = [_clause_name(c) for c in top]
    labels = [name.split(" · ", 1)[0] for name in names]
    return Chart(chart_id, title, ["条款", "案件数"],
                 [[name, counts[c]] for name, c in zip(names, top, strict=True)], labels,
                 [{"name": "案件数", "data": [counts[c] for c in top]}], [None] * len(top))


def chart_clauses(facts: Facts, f: InsightFilter, *, limit: int = 12) -> tuple[Chart, Chart]:
    situations = _clause_chart("situation", "认定成立最多的容错情形（予以容错的案件）", facts.metric("situation"), limit)
    exclusions = _clause_chart("exclusion", "认定成立最多的不予容错情形（不予容错的案件）", facts.metric("exclusion"), limit)
    return situations, exclusions


def chart_departures(facts: Facts, f: InsightFilter) -> Chart:
    total = sum(facts.metric("decision").values())
    counts = facts.metric("departure")
    keys = sorted(counts, key=lambda k: (-counts[k], *k.split("|")[:2]))
    labels, table = [], []
    for key in keys:
        kind, outcome, raw = key.split("|", 2)
        verdict = VERDICTS.get(raw, raw or "—")
        labels.append(f"评估{verdict} → 决定{Outcome(outcome).label}")
        table.append([DecisionKind(kind).label, verdict, Outcome(outcome).label, counts[key]])
    departed = sum(counts.values())
    note = f"共 {total} 项决定，其中 {departed} 项与规则评估不一致（{departed / total:.1%}）。" if total else "本期间没有决定。"
    return Chart("departure", "与规则评估不一致的决定", ["决定类别", "规则评估", "决定结论", "决定数"], table, labels,
                 [{"name": "决定数", "data": [counts[k] for k in keys]}], [None] * len(keys), note=note)


def chart_appeals(facts: Facts, f: InsightFilter) -> Chart:
    counts = facts.metric("appeal")
    results = [("", "尚未复核"), (AppealResult.UPHELD, AppealResult.UPHELD.label),
               (AppealResult.OVERTURNED, AppealResult.OVERTURNED.label)]
    link = _linkable(f)
    links = [_list_link(f, state=CaseState.APPEALED) if link else None, None, None]
    return Chart("appeal", "申诉及复核结果", ["复核结果", "申诉数"], [[label, counts.get(k, 0)] for k, label in results],
                 [label for _, label in results], [{"name": "申诉数", "data": [counts.get(k, 0) for k, _ in results]}],
                 links)


VISIT_GROUPS = (("done", "已完成回访"), ("overdue", "到期未回访（已超期）"), ("due", "尚未到期"))


def visit_counts(facts: Facts, today: dt.date) -> dict[str, int]:
    """Return visits done, due and not done (past their date), and planned for later, as the 回访 list groups them."""
    out = {"done": 0, "overdue": 0, "due": 0}
    for key, n in facts.metric("visit").items():
        group = key if key == "done" else "overdue" if key == "past" or key < today.isoformat() else "due"
        out[group] += n
    return out


def chart_visits(facts: Facts, f: InsightFilter, today: dt.date) -> Chart:
    counts = visit_counts(facts, today)
    link = _linkable(f)
    links = []
    for group, _ in VISIT_GROUPS:
        q = {"mine": "0", "status": group, "from": f.date_from.isoformat(), "to": f.date_to.isoformat()}
        if f.ruleset:
            q["ruleset"] = f.ruleset
        links.append(f"{reverse('visit-index')}?{urlencode(q)}" if link else None)
    due = counts["done"] + counts["overdue"]
    return Chart("visit", "回访（应回访与已回访）", ["回访", "次数"],
                 [[label, counts[g]] for g, label in VISIT_GROUPS], [label for _, label in VISIT_GROUPS],
                 [{"name": "回访次数", "data": [counts[g] for g, _ in VISIT_GROUPS]}], links,
                 note=f"书面反馈送达后按配置的月份安排回访；只计本期间启动的案件。已完成和已到期的共 {due} 次，"
                      f"其中已完成 {counts['done']} 次。")


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


# --- where the figures come from ---------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Which start months the summary table answers for, the rows of it in scope, and the cases computed live."""

    months: tuple[dt.date, dt.date] | None
    tally_where: Q
    live: list[QuerySet[Case]]


def _whole_months(f: InsightFilter, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last start month lying wholly in the period. A month reaching today counts as whole
    when the period runs to today or later: no case is started in the future."""
    first = f.date_from if f.date_from.day == 1 else (f.date_from.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    last = f.date_to.replace(day=1)
    month_last_day = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    if f.date_to < month_last_day and f.date_to < today:
        last = (last - dt.timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else None


def _scope(user: User, tree: dict[int, int]) -> tuple[Q | None, Q, Q | None]:  # noqa: C901 - one branch per kind
    """The visibility rule split in two: the part the summary table's columns express (as a filter on the
    table and the same on the case table; ``None``: everything), and the rest (cases seen through a
    consultation, one's own cases, a unit's), answered live. Mirrors ``workflow.permissions.visible_cases``;
    the tests recount through that function."""
    from workflow.models import Consultation
    from workflow.permissions import _managed_within

    scope = scope_of(user)
    if scope.is_admin:
        return None, Q(), None
    decided = CaseState.decided()
    tally, cases = Q(pk__in=[]), Q(pk__in=[])
    if scope.inspector_visible_org_ids:
        tally |= Q(org_id__in=scope.inspector_visible_org_ids)
        cases |= Q(accountability_org_id__in=scope.inspector_visible_org_ids)
    if scope.committee_subtree_ids:
        tally |= Q(managed_id__in=_heads(scope.committee_subtree_ids, tree))
        cases |= _managed_within(scope.committee_subtree_ids)
    if scope.orgdept_subtree_ids:
        tally |= Q(managed_id__in=_heads(scope.orgdept_subtree_ids, tree), state__in=[*decided, DECIDED])
        cases |= _managed_within(scope.orgdept_subtree_ids) & Q(state__in=decided)
    extra = Q(pk__in=[])
    if scope.consult_org_ids:
        extra |= Q(pk__in=Consultation.objects.filter(organisation_id__in=scope.consult_org_ids).values("case_id"))
    if scope.person_id is not None:
        extra |= Q(subject_id=scope.person_id)
    if scope.unit_org_ids:
        extra |= Q(applicant_unit_id__in=scope.unit_org_ids)
        extra |= Q(subject__kind=PartyKind.UNIT, subject__unit_id__in=scope.unit_org_ids)
    has_extra = bool(scope.consult_org_ids or scope.person_id is not None or scope.unit_org_ids)
    return tally, cases, (extra if has_extra else None)


def _heads(ids: set[int], tree: dict[int, int]) -> set[int]:
    """The committees of a set of organisations: what the summary table's ``managed_id`` holds."""
    return {tree.get(i, i) for i in ids}


def insight_plan(user: User, f: InsightFilter, *, today: dt.date | None = None) -> Plan:
    today = today or timezone.localdate()
    months = _whole_months(f, timezone.localdate())
    everything = insight_cases(user, f)
    if months is None:
        return Plan(None, Q(pk__in=[]), [everything])
    tree = committees()
    tally_scope, case_scope, extra = _scope(user, tree)
    scope = scope_of(user)
    managed = scope.committee_subtree_ids | scope.orgdept_subtree_ids
    if managed and not scope.is_admin and not closed_under_committees(managed, tree):
        # The table counts by committee; a scope cutting through a committee's tree is counted live.
        return Plan(None, Q(pk__in=[]), [everything])
    where = tally_scope if tally_scope is not None else Q()
    if f.ruleset:
        where &= Q(ruleset=f.ruleset)
    if f.organisation is not None:
        where &= Q(org_id__in=commission_subtree(f.organisation))
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(months[0], dt.time.min, tz)
    end = dt.datetime.combine((months[1] + dt.timedelta(days=32)).replace(day=1), dt.time.min, tz)
    live = []
    if f.date_from < months[0] or f.date_to >= end.date():
        live.append(everything.filter(Q(created_at__lt=start) | Q(created_at__gte=end)))
    # Cells changed since the table last folded them in are counted live, and their rows left out: whichever
    # moment the statistics task folds them in, each case is counted once.
    dirty = [(m, o) for m, o in InsightDirty.objects.values_list("month", "org_id") if months[0] <= m <= months[1]]
    if dirty:
        stale, changed = Q(pk__in=[]), Q(pk__in=[])
        for month, org_id in dirty:
            lo = dt.datetime.combine(month, dt.time.min, tz)
            hi = dt.datetime.combine((month + dt.timedelta(days=32)).replace(day=1), dt.time.min, tz)
            stale |= Q(month=month, org_id=org_id)
            changed |= Q(accountability_org_id=org_id, created_at__gte=lo, created_at__lt=hi)
        where &= ~stale
        live.append(everything.filter(changed))
    if extra is not None:
        # Not through the summary's columns: seen through a consultation, one's own, a unit's. Few.
        rest = Case.objects.filter(extra, created_at__gte=start, created_at__lt=end).exclude(case_scope)
        if f.ruleset:
            rest = rest.filter(ruleset=f.ruleset)
        if f.organisation is not None:
            rest = rest.filter(accountability_org_id__in=commission_subtree(f.organisation))
        live.append(rest)
    return Plan(months, where, live)


SMALL_LIVE = 2000


@contextlib.contextmanager
def _materialised(parts: list[QuerySet[Case]]) -> Iterator[QuerySet[Case] | None]:
    """The live cases, ``None`` if there are none. On PostgreSQL a few are fetched by id; many are selected once
    into a temporary table that every figure joins, instead of each query re-evaluating the visibility rule.
    Elsewhere, and on a read replica (config.db_router) where not even a temporary table can be created, the
    query is used as it is."""
    replica = router.db_for_read(Case) != DEFAULT_DB_ALIAS
    if connection.vendor == "postgresql":
        ids: set[int] = set()
        for part in parts:
            ids.update(part.order_by().values_list("id", flat=True)[:SMALL_LIVE + 1])
            if len(ids) > SMALL_LIVE:
                break
        else:  # few (a short edge of the period, cells just changed, cases seen through a consultation)
            yield Case.objects.filter(pk__in=sorted(ids)) if ids else None
            return
    if connection.vendor != "postgresql" or replica:
        q = Q(pk__in=[])
        for part in parts:
            q |= Q(pk__in=part.order_by().values("id"))
        yield Case.objects.filter(q)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS insight_case_ids")
        cursor.execute("CREATE TEMPORARY TABLE insight_case_ids (id bigint PRIMARY KEY) ON COMMIT DROP")
        for part in parts:
            sql, params = part.order_by().values("id").query.sql_with_params()
            cursor.execute(f"INSERT INTO insight_case_ids {sql} ON CONFLICT DO NOTHING", params)  # noqa: S608 - Django's own SQL
        cursor.execute("ANALYZE insight_case_ids")
        yield Case.objects.filter(pk__in=RawSQL("SELECT insight_case_ids.id FROM insight_case_ids", []))


def insight_facts(user: User, f: InsightFilter, *, today: dt.date | None = None) -> Facts:
    """The summary table's rows in scope for the whole months, plus the live rest. Reading writes nothing (it may
    run on a read replica); only when the statistics task has fallen behind does a reader fold changes in."""
    from .replica import replica_reads_active
    from .tally import FLUSH_BATCH, case_facts, tally_flush, tally_read

    today = today or timezone.localdate()
    if not replica_reads_active() and InsightDirty.objects.count() > FLUSH_BATCH:
        tally_flush()
    plan = insight_plan(user, f, today=today)
    facts = Facts()
    if plan.months is not None:
        facts.add_tally(*tally_read(plan.tally_where, plan.months))
    if plan.live:
        with _materialised(plan.live) as qs:
            if qs is not None:  # None: no case
                facts.add_live(case_facts(qs, today=today))
    return facts


def insight_build(user: User, f: InsightFilter, *, today: dt.date | None = None) -> Insight:
    """Every figure of the dashboard (and of the annual report) for what ``user`` may see."""
    today = today or timezone.localdate()
    return insight_from(insight_facts(user, f, today=today), f, today=today)


def insight_from(facts: Facts, f: InsightFilter, *, today: dt.date) -> Insight:
    open_counts, overdue = facts.open_counts(today)
    decided = facts.metric("decided")
    period, tolerance = chart_periods(facts, f)
    situations, exclusions = chart_clauses(facts, f)
    charts = [chart_states(facts, f), chart_outcomes(facts, f), period, tolerance, chart_rulesets(facts, f),
              chart_organisations(facts, f), chart_durations(facts, f), chart_overdue(facts, f, today), situations,
              exclusions, chart_departures(facts, f), chart_appeals(facts, f), chart_visits(facts, f, today)]
    return Insight(f, sum(facts.by("state").values()), sum(decided.values()),
                   sum(n for k, n in decided.items() if k.endswith("|t")), sum(overdue.values()), charts)


def chart_ids() -> Iterable[str]:
    return ("state", "outcome", "period", "tolerance", "ruleset", "organisation", "duration", "overdue", "situation",
            "exclusion", "departure", "appeal", "visit")


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
