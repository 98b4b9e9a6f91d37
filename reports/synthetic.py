"""Synthetic cases for load tests and the statistics: realistic, deterministic for a seed, written in bulk.

``manage.py generate_cases`` builds organisation trees for several provinces (committees, discipline
commissions, organisation departments, units), cadres and officials, then cases spread over every
state and rule set with what the procedure would have left behind: findings, proposals, consultations,
decisions (with the engine's evaluation), appeals, documents, notifications, outbox events and the
history chain, keyed exactly as ``history_append`` keys it.

Each batch of stories becomes plain rows once (``RowBuilder``: ids given from the tables' maxima, the
case number, document numbers, the chain), then a sink writes them in one transaction holding the chain
head's lock: on PostgreSQL ``COPY FROM STDIN`` of every table, columns taken from the models' concrete
fields (``CopySink``, in a thread of its own so the database writes one batch while Python builds the
next); elsewhere ``bulk_create`` (``BulkSink``). Both store exactly the same rows (a test compares them).
A large run on PostgreSQL is one transaction with the tables' secondary indexes and constraints set aside
and rebuilt at the end (``BulkLoad``); a failure rolls all of it back.

Generated cases carry a submission key starting with ``gen-``: that is how the command knows a
database holds only generated cases. Every date is on or before ``end`` and follows the procedure's
order, so ``check_records`` and ``verify_history`` pass. Document rows are numbered like real ones
but have no PDF (status failed, with the reason): the accountability department can regenerate one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import hmac
import io
import itertools
import json
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connections, models, reset_queries, transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, OrgKind, OrgLevel, PartyKind, Person, Role, User
from cases.models import Case, CaseState, Finding, MatterCategory, Origin, Outcome
from rules.errors import RuleError
from rules.loader import registry
from rules.temporal import evaluate
from workflow.deadlines import stage_days
from workflow.history import GENESIS, KEYED_ALGORITHMS, entry_digest
from workflow.models import (
    Appeal,
    AppealResult,
    ChainHead,
    Consultation,
    ConsultationOpinion,
    Decision,
    DecisionKind,
    HistoryAction,
    HistoryEntry,
    Notification,
    OutboxEvent,
    OutboxKind,
    PinnedRuleSet,
    Proposal,
)

from .models import Document, DocumentKind, DocumentNumber, DocumentStatus

logger = logging.getLogger(__name__)

GEN_PREFIX = "gen-"
EARLIEST = dt.date(2020, 3, 1)
DOCUMENT_NOTE = "合成数据：只登记文号，未生成 PDF；如需文书，请由问责部门重新生成。"

# (province, committee name, short name, rule sets, cities)
PROVINCES: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("河北省", "中共河北省委", "冀", ("zhangjiakou",), ("张家口", "石家庄", "保定", "承德")),
    ("河南省", "中共河南省委", "豫", ("henan",), ("郑州", "洛阳", "开封", "新乡")),
    ("内蒙古自治区", "中共内蒙古自治区委员会", "蒙", ("hohhot",), ("呼和浩特", "包头")),
    ("浙江省", "中共浙江省委", "浙", ("zhejiang", "zhejiang-dept-example"), ("杭州", "宁波", "温州")),
    ("江苏省", "中共江苏省委", "苏", ("zhangjiagang",), ("苏州", "无锡")),
]
COUNTY_SUFFIXES = ("东城区", "西城区", "新区", "高新区", "经开区", "北郊县")
CITY_UNITS = ("生态环境局", "住房和城乡建设局", "交通运输局", "水务局", "自然资源和规划局", "应急管理局",
              "财政局", "市场监督管理局")
COUNTY_UNITS = ("生态环境分局", "住房和城乡建设局", "农业农村局", "应急管理局")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何",
            "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓",
            "许", "傅", "沈", "曾", "彭", "吕", "欧阳", "司马", "上官", "诸葛")
GIVEN = "建国伟强军华明平志红英芳丽敏静海涛波斌鹏辉杰峰磊洋勇毅刚健文武晓东春秋玉兰霞云飞凯旭宏宇"
POSITIONS = ("科长", "副科长", "副局长", "站长", "主任", "副主任", "执法大队队长", "办公室主任", "项目负责人")
LEADERS = ("副局长",)
RANKS = ("一级主任科员", "二级主任科员", "四级调研员", "三级调研员", "二级调研员", "一级科员")
CATEGORY_TITLES = {
    MatterCategory.ENVIRONMENT: ("大气污染防治督查", "河道排污口整治", "秸秆焚烧管控"),
    MatterCategory.SAFETY: ("危化品企业检查", "燃气管道隐患排查", "建筑工地安全检查"),
    MatterCategory.INVESTMENT: ("招商项目土地预供", "引进企业优惠政策兑现"),
    MatterCategory.CONSTRUCTION: ("老旧小区改造工程", "市政道路工程变更", "保障房项目验收"),
    MatterCategory.REFORM: ("审批制度改革试点", "国企改革先行先试"),
    MatterCategory.PETITION: ("信访积案化解", "征迁矛盾调处"),
    MatterCategory.FUNDS: ("专项资金拨付", "惠农补贴发放"),
    MatterCategory.APPROVAL: ("容缺受理审批", "证照联办"),
    MatterCategory.EMERGENCY: ("防汛应急处置", "疫情防控物资调拨"),
    MatterCategory.OTHER: ("基层治理创新",),
}
# Share of generated cases in each final state (sums to 100).
STATE_WEIGHTS = {
    CaseState.STARTED: 6, CaseState.INVESTIGATING: 12, CaseState.PROPOSED: 7, CaseState.DECIDED: 4,
    CaseState.EXECUTED: 22, CaseState.APPEALED: 2, CaseState.CLOSED: 43, CaseState.WITHDRAWN: 4,
}
FACTS = {"loss_amount": None, "disposition": None, "prior_same_matter": []}


class GenerationRefused(Exception):
    """The database is not one the generator may write to (or the options are wrong)."""


@dataclass
class _Org:
    pk: int
    name: str
    kind: str
    committee: int  # the committee whose tree holds it


@dataclass
class _Tree:
    """What cases are drawn from: each discipline commission with the units, people and officials under it."""

    commissions: list[_Org] = field(default_factory=list)
    orgdept_of: dict[int, _Org] = field(default_factory=dict)  # committee -> organisation department
    units_of: dict[int, list[_Org]] = field(default_factory=dict)  # committee -> units
    rulesets_of: dict[int, tuple[str, ...]] = field(default_factory=dict)  # committee -> rule sets
    users_of: dict[tuple[int, str], list[User]] = field(default_factory=dict)  # (org, role) -> users
    cadres_of: dict[int, list[Person]] = field(default_factory=dict)  # unit -> cadres
    unit_party_of: dict[int, Person] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


@contextlib.contextmanager
def _stored_timestamps(*model_fields: tuple[type[models.Model], str]) -> Iterator[None]:
    """Let bulk inserts keep the historical times we give instead of auto_now / auto_now_add's 'now'."""
    saved = []
    for model, name in model_fields:
        f = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]


def foreign_cases_exist() -> bool:
    """Does the database hold cases the generator did not make?"""
    return Case.objects.exclude(submission_key__startswith=GEN_PREFIX).exists()


# --- the organisation tree and its people ----------------------------------------------------------

def _orgs_ensure(rows: list[tuple[str, str, str, str, str | None, str]]) -> dict[str, Organisation]:
    """(name, kind, level, jurisdiction, parent name, short name), parents first; existing names are kept."""
    existing = {o.name: o for o in Organisation.objects.filter(name__in=[r[0] for r in rows])}
    for name, kind, level, jurisdiction, parent, short in rows:
        if name in existing:
            continue
        existing[name] = Organisation.objects.create(
            name=name, kind=kind, level=level, jurisdiction=jurisdiction, short_name=short,
            parent=existing[parent] if parent else None)
    return existing


def _users_ensure(specs: list[tuple[str, str, Organisation, str]]) -> dict[str, User]:
    """(username, full name, organisation, role); generated officials cannot log in (unusable password)."""
    names = [s[0] for s in specs]
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    unusable = make_password(None)
    new = [User(username=u, full_name=n, password=unusable) for u, n, _, _ in specs if u not in found]
    User.objects.bulk_create(new, batch_size=1000)
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    have = set(Membership.objects.filter(user__in=found.values()).values_list("user_id", "organisation_id", "role"))
    Membership.objects.bulk_create([
        Membership(user=found[u], organisation=org, role=role) for u, _, org, role in specs
        if (found[u].pk, org.pk, role) not in have], batch_size=1000)
    return found


def tree_build(*, rng: random.Random, people: int) -> _Tree:
    """Committees, organs and units for each province (reusing organisations that already exist by name)."""
    rows: list[tuple[str, str, str, str, str | None, str]] = []
    cities: list[tuple[str, str, tuple[str, ...]]] = []  # (committee name, prefix, rule sets)
    counties: list[tuple[str, str, tuple[str, ...]]] = []
    for province, pname, short, rulesets, city_names in PROVINCES:
        j = rulesets[0]
        rows += [(pname, OrgKind.COMMITTEE, OrgLevel.PROVINCE, j, None, short),
                 (f"{province.removesuffix('省')}省纪委监委" if province.endswith("省") else f"{province}纪委监委",
                  OrgKind.DISCIPLINE, OrgLevel.PROVINCE, j, pname, f"{short}纪"),
                 (f"{pname}组织部", OrgKind.ORGDEPT, OrgLevel.PROVINCE, j, pname, f"{short}组")]
        for city in city_names:
            c = f"中共{city}市委"
            rows += [(c, OrgKind.COMMITTEE, OrgLevel.CITY, j, pname, city[0]),
                     (f"{city}市纪委监委", OrgKind.DISCIPLINE, OrgLevel.CITY, j, c, f"{city}纪容"),
                     (f"中共{city}市委组织部", OrgKind.ORGDEPT, OrgLevel.CITY, j, c, f"{city}组")]
            rows += [(f"{city}市{u}", OrgKind.UNIT, OrgLevel.CITY, j, c, "") for u in CITY_UNITS]
            cities.append((c, f"{city}市", rulesets))
            for suffix in COUNTY_SUFFIXES[:3]:
                county = f"{city}{suffix}"
                k = f"中共{county}委"
                rows += [(k, OrgKind.COMMITTEE, OrgLevel.COUNTY, j, c, county[:3]),
                         (f"{county}纪委监委", OrgKind.DISCIPLINE, OrgLevel.COUNTY, j, k, f"{county[:3]}纪容"),
                         (f"中共{county}委组织部", OrgKind.ORGDEPT, OrgLevel.COUNTY, j, k, f"{county[:3]}组")]
                rows += [(f"{county}{u}", OrgKind.UNIT, OrgLevel.COUNTY, j, k, "") for u in COUNTY_UNITS]
                counties.append((k, county, rulesets))
    orgs = _orgs_ensure(rows)
    tree = _Tree()
    specs: list[tuple[str, str, Organisation, str]] = []
    for committee_name, prefix, rulesets in cities + counties:
        committee = orgs[committee_name]
        cid = committee.pk
        tree.rulesets_of[cid] = rulesets
        suffix = committee_name.removeprefix("中共")
        dc = orgs[f"{prefix}纪委监委"]
        od = orgs[f"中共{suffix}组织部"]
        tree.commissions.append(_Org(dc.pk, dc.name, dc.kind, cid))
        tree.orgdept_of[cid] = _Org(od.pk, od.name, od.kind, cid)
        unit_names = CITY_UNITS if committee.level == OrgLevel.CITY else COUNTY_UNITS
        tree.units_of[cid] = [_Org(orgs[f"{prefix}{u}"].pk, f"{prefix}{u}", OrgKind.UNIT, cid) for u in unit_names]
        for org, role, n in ((dc, Role.INSPECTOR, 2), (committee, Role.COMMITTEE, 2), (od, Role.ORGDEPT, 1)):
            for i in range(n):
                specs.append((f"gen_{role}_{org.pk}_{i}", _person_name(rng), org, role))
        for unit in tree.units_of[cid]:
            specs.append((f"gen_unit_{unit.pk}", _person_name(rng), orgs[unit.name], Role.UNIT))
    # One member of each provincial committee: its statistics span the whole province.
    specs += [(f"gen_{Role.COMMITTEE}_{orgs[p[1]].pk}_0", _person_name(rng), orgs[p[1]], Role.COMMITTEE)
              for p in PROVINCES]
    users = _users_ensure(specs)
    for username, _, org, role in specs:
        tree.users_of.setdefault((org.pk, role), []).append(users[username])
    tree.names = {o.pk: o.name for o in orgs.values()}
    _people_ensure(tree, rng=rng, people=people, orgs=orgs)
    return tree


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _people_ensure(tree: _Tree, *, rng: random.Random, people: int, orgs: dict[str, Organisation]) -> None:
    units = [u for lst in tree.units_of.values() for u in lst]
    per_unit = max(3, people // len(units))
    existing: dict[int, list[Person]] = {}
    for p in Person.objects.filter(unit_id__in=[u.pk for u in units]).order_by("id"):
        if p.kind == PartyKind.UNIT:
            tree.unit_party_of[p.unit_id] = p
        else:
            existing.setdefault(p.unit_id, []).append(p)
    new: list[Person] = []
    for u in units:
        have = len(existing.get(u.pk, []))
        for _ in range(max(0, per_unit - have)):
            position = rng.choice(POSITIONS)
            # A unit's leaders are managed by the committee above it (干部管理权限), the others by the unit.
            new.append(Person(kind=PartyKind.CADRE, name=_person_name(rng), unit_id=u.pk, position=position,
                              rank=rng.choice(RANKS), managing_committee_id=u.committee if position in LEADERS else None))
        if u.pk not in tree.unit_party_of:
            new.append(Person(kind=PartyKind.UNIT, name=u.name, unit_id=u.pk))
    Person.objects.bulk_create(new, batch_size=2000)
    for p in Person.objects.filter(unit_id__in=[u.pk for u in units]).order_by("id"):
        if p.kind == PartyKind.UNIT:
            tree.unit_party_of[p.unit_id] = p
        else:
            tree.cadres_of.setdefault(p.unit_id, []).append(p)


# --- one case's story --------------------------------------------------------------------------------

@dataclass
class _Event:
    day: dt.date
    action: str
    actor: User | None
    role: str
    org: str
    from_state: str
    to_state: str
    reason: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Story:
    """Everything one case will hold, before ids exist."""

    case: _CaseDraft
    events: list[_Event] = field(default_factory=list)
    findings: list[tuple[str, str, dt.date]] = field(default_factory=list)
    proposal: dict[str, Any] | None = None
    consultation: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    appeal: dict[str, Any] | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)


class JSONText(dict):
    """A JSON object that carries its own JSON text, so the COPY writer does not dump the same large
    evaluation again for every proposal and decision that holds it."""

    __slots__ = ("copy", "json")

    def __init__(self, value: dict[str, Any], text: str, copy: str | None = None) -> None:
        super().__init__(value)
        self.json = text
        self.copy = _copy_text(text) if copy is None else copy  # as COPY's text format reads it


class _Evaluations:
    """The engine's evaluation of each findings pattern, computed once per rule set, pattern and the rule set
    versions in force at the conduct and at the decision (the engine chooses between those two)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
        self.pinned: set[str] = set()

    def __call__(self, ruleset: str, findings: dict[str, str], conduct: dt.date, decided: dt.date) -> dict[str, Any]:
        key = (ruleset, tuple(sorted(findings.items())), self._version(ruleset, conduct), self._version(ruleset, decided))
        cached = self.cache.get(key)
        if cached is None:
            result = evaluate(ruleset, {k: {"status": v} for k, v in findings.items()}, conduct, facts=FACTS,
                              decision_date=decided)
            value = result.to_dict()
            value.pop("conduct_date", None)
            text = json.dumps(value, ensure_ascii=False)
            cached = (value, text[:-1] + "," if value else "{")
            if result.version.content_hash not in self.pinned:
                PinnedRuleSet.objects.get_or_create(content_hash=result.version.content_hash, defaults={
                    "ruleset": result.version.id, "version": result.version.version,
                    "snapshot": result.version.snapshot()})
                self.pinned.add(result.version.content_hash)
            self.cache[key] = cached
        value, head = cached
        day = conduct.isoformat()
        return JSONText({**value, "conduct_date": day}, f'{head}"conduct_date":"{day}"}}')

    @staticmethod
    def _version(ruleset: str, day: dt.date) -> str:
        try:
            return registry().version_for(ruleset, day).content_hash
        except RuleError:  # before the first version, or in a gap: the engine decides what applies
            return ""


_SHAPES: dict[int, tuple[Any, tuple[str, ...], list[Any], dict[str, tuple[str, ...]], tuple[str, ...]]] = {}


def _shape(version: Any) -> tuple[tuple[str, ...], list[Any], dict[str, tuple[str, ...]], tuple[str, ...]]:
    """A rule set version's clause ids by kind, read once per version (the version is kept with them, so
    its id is not reused while remembered)."""
    found = _SHAPES.get(id(version))
    if found is None or found[0] is not version:
        situations = version.situations()
        found = _SHAPES[id(version)] = (
            version, tuple(c.id for c in version.prerequisites()), situations,
            {s.id: tuple(r.id for r in version.requirements_for(s.id)) for s in situations},
            tuple(c.id for c in version.exclusions()))
    return found[1:]


def _pattern(ruleset: str, conduct: dt.date, rng: random.Random, *, refuse: bool) -> dict[str, str]:
    """A complete set of findings: tolerable (every prerequisite, one situation and its requirements met,
    no exclusion), or refused (one exclusion met, or for a rule set without exclusions a prerequisite not met)."""
    prerequisites, situations, requirements, exclusions = _shape(registry().version_for(ruleset, conduct))
    findings = dict.fromkeys(prerequisites, "met")
    s = situations[min(int(rng.paretovariate(1.3)) - 1, len(situations) - 1)]
    findings[s.id] = "met"
    findings.update(dict.fromkeys(requirements[s.id], "met"))
    findings.update(dict.fromkeys(exclusions, "not_met"))
    if refuse:
        if exclusions:
            findings[exclusions[min(int(rng.paretovariate(1.1)) - 1, len(exclusions) - 1)]] = "met"
        elif prerequisites:
            findings[rng.choice(prerequisites)] = "not_met"
    return findings


def _randint(rng: random.Random, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] from one ``random()`` draw (``randint`` costs several calls each)."""
    return lo + int(rng.random() * (hi - lo + 1))


class _CaseDraft:
    """A case's values before it has an id: its fields' defaults, then what the story gives (a model
    instance costs more to make than everything else about a row)."""

    defaults: dict[str, Any] | None = None

    def __init__(self, **values: Any) -> None:
        if _CaseDraft.defaults is None:
            _CaseDraft.defaults = {f.attname: f.get_default() for f in Case._meta.concrete_fields}
        self.__dict__.update(_CaseDraft.defaults)
        self.claimed_situations = []
        self.__dict__.update(values)


class _Clock:
    def __init__(self, rng: random.Random) -> None:
        self.random = rng.random
        self.tz = timezone.get_current_timezone()

    def at(self, day: dt.date, hour: int | None = None) -> dt.datetime:
        r = self.random
        h = hour if hour is not None else 8 + int(r() * 10)
        return dt.datetime(day.year, day.month, day.day, h, int(r() * 60), int(r() * 60), tzinfo=self.tz)


def _path(state: str, rng: random.Random, refused: bool) -> tuple[list[str], str]:
    """The milestones a case in ``state`` went through, and what happened at an appeal (if any)."""
    appeal_end = ""
    if state == CaseState.WITHDRAWN:
        return (["start", "investigate", "withdraw"] if rng.random() < 0.6 else ["start", "withdraw"]), ""
    steps = {
        CaseState.STARTED: ["start"],
        CaseState.INVESTIGATING: ["start", "investigate"],
        CaseState.PROPOSED: ["start", "investigate", "propose"],
        CaseState.DECIDED: ["start", "investigate", "propose", "decide"],
        CaseState.EXECUTED: ["start", "investigate", "propose", "decide", "execute"],
        CaseState.APPEALED: ["start", "investigate", "propose", "decide", "execute", "appeal"],
    }.get(state)
    if steps is not None:
        return steps, ""
    # Closed: after the appeal window, or after an appeal upheld on review.
    base = ["start", "investigate", "propose", "decide", "execute"]
    if refused and rng.random() < 0.25:
        appeal_end = "upheld"
        return [*base, "appeal", "review"], appeal_end
    return [*base, "close"], appeal_end


def _override(outcome: str, evaluation: dict[str, Any]) -> str:
    """The reason the procedure requires exactly when the outcome departs from the evaluation."""
    if outcome in (evaluation.get("outcomes") or []):
        return ""
    return "综合考虑当事人一贯表现和事后补救情况，党委集体研究认为应作不同认定。"


GAPS = {"investigate": (1, 7), "propose": (15, 60), "consult": (2, 10), "decide": (3, 20), "execute": (2, 10),
        "appeal": (3, 25), "review": (10, 40), "withdraw": (1, 30)}


class StoryMaker:
    """Draws one case at a time from the seeded generator."""

    def __init__(self, *, tree: _Tree, rng: random.Random, seed: int, end: dt.date, years: int) -> None:
        self.tree, self.rng, self.seed, self.end = tree, rng, seed, end
        self.start = max(EARLIEST, end - dt.timedelta(days=365 * years))
        self.clock = _Clock(rng)
        self.evaluations = _Evaluations()
        self.states = list(STATE_WEIGHTS)
        self.cum_weights = list(itertools.accumulate(STATE_WEIGHTS.values()))
        self.categories = list(CATEGORY_TITLES)
        self.earliest: dict[str, dt.date] = {}
        self.days = stage_days()
        self.window = {r: registry().family(r) for r in registry().ids()}

    def _earliest(self, ruleset: str) -> dt.date:
        found = self.earliest.get(ruleset)
        if found is None:
            found = self.earliest[ruleset] = max(self.start, min(v.effective_from for v in self.window[ruleset].versions))
        return found

    def make(self, index: int) -> _Story:
        rng = self.rng
        dc = rng.choice(self.tree.commissions)
        cid = dc.committee
        ruleset = rng.choice(self.tree.rulesets_of[cid])
        unit = rng.choice(self.tree.units_of[cid])
        subject = self.tree.unit_party_of[unit.pk] if rng.random() < 0.05 else rng.choice(self.tree.cadres_of[unit.pk])
        inspector = rng.choice(self.tree.users_of[(dc.pk, Role.INSPECTOR)])
        committee_users = self.tree.users_of[(cid, Role.COMMITTEE)]
        od = self.tree.orgdept_of[cid]
        orgdept_user = self.tree.users_of[(od.pk, Role.ORGDEPT)][0]
        unit_officer = self.tree.users_of[(unit.pk, Role.UNIT)][0]
        state = rng.choices(self.states, cum_weights=self.cum_weights)[0]
        refused = rng.random() < 0.3 or state == CaseState.APPEALED
        path, appeal_end = _path(state, rng, refused)
        # Offsets of each milestone from the start, then place the whole story inside the window.
        offsets = [0]
        for step in path[1:]:
            lo, hi = GAPS.get(step, (1, 1))
            if step == "decide":
                offsets.append(offsets[-1] + _randint(rng, *GAPS["consult"]) + _randint(rng, lo, hi))
            elif step == "close":
                offsets.append(offsets[-1] + 31 + _randint(rng, 0, 20))
            else:
                offsets.append(offsets[-1] + _randint(rng, lo, hi))
        latest_start = self.end - dt.timedelta(days=offsets[-1])
        earliest = self._earliest(ruleset) + dt.timedelta(days=30)
        if state in CaseState.in_progress() or state == CaseState.EXECUTED:
            # Open cases are recent: the last step within about a stage's time of the end (some overdue).
            slack = _randint(rng, 0, int(self.days.get(state, 30) * 1.4) if state != CaseState.EXECUTED else 25)
            day0 = max(earliest, latest_start - dt.timedelta(days=slack))
        else:
            span = max(0, (latest_start - earliest).days)
            day0 = earliest + dt.timedelta(days=int(span * rng.random() ** 0.7))
        day0 = min(day0, latest_start) if latest_start >= earliest else latest_start
        when = {step: day0 + dt.timedelta(days=off) for step, off in zip(path, offsets, strict=True)}
        conduct = day0 - dt.timedelta(days=_randint(rng, 5, 200))
        category = rng.choice(self.categories)
        title = f"{unit.name.split('市')[-1] or unit.name}{rng.choice(CATEGORY_TITLES[category])}问责事项"
        application = rng.random() < 0.25
        case = _CaseDraft(
            title=title[:200], subject_id=subject.pk, accountability_org_id=dc.pk, handler_id=inspector.pk,
            ruleset=ruleset,
            conduct_date=conduct, matter_category=category,
            summary=f"{subject.name}在{rng.choice(CATEGORY_TITLES[category])}工作中，因先行先试、政策界限不明确等原因出现失误，"
                    f"被{dc.name}问责。当事人已配合调查并说明情况。",
            remedial_measures="已主动采取补救措施，及时挽回损失、消除影响。" if rng.random() < 0.7 else "",
            origin=Origin.APPLICATION if application else Origin.ACCOUNTABILITY,
            applicant_id=unit_officer.pk if application else None,
            applicant_unit_id=unit.pk if application and subject.kind == PartyKind.CADRE else None,
            state=state, submission_key=f"{GEN_PREFIX}{self.seed}-{index}",
            created_by_id=unit_officer.pk if application else inspector.pk, created_at=self.clock.at(day0),
            # Where the subject is managed; the database's trigger sets the same on insert.
            managed_by_id=subject.managing_committee_id or subject.unit_id,
        )
        story = _Story(case=case)
        insp = (inspector, Role.INSPECTOR, dc.name)
        comm_user = rng.choice(committee_users)
        comm = (comm_user, Role.COMMITTEE, self.tree.names[cid])
        state_now = CaseState.STARTED

        def event(step: str, action: str, who: tuple[User | None, str, str], to: str, **kw: Any) -> None:
            nonlocal state_now
            story.events.append(_Event(when[step], action, who[0], who[1], who[2], state_now, to, **kw))
            state_now = to

        start_changes = {"title": case.title, "subject": subject.name, "ruleset": ruleset, "origin": case.origin}
        if case.applicant_unit_id:
            start_changes["applicant_unit"] = unit.name
        story.events.append(_Event(when["start"], HistoryAction.APPLY if application else HistoryAction.START,
                                   unit_officer if application else inspector, Role.UNIT if application else Role.INSPECTOR,
                                   unit.name if application else dc.name, "", CaseState.STARTED, changes=start_changes))
        story.notifications.append({"user": inspector, "text": f"新案件待受理：{subject.name}《{case.title}》",
                                    "task": HistoryAction.INVESTIGATE, "day": when["start"],
                                    "done": when.get("investigate") or when.get("withdraw")})
        findings = _pattern(ruleset, conduct, rng, refuse=refused)
        decided_day = when.get("decide")
        evaluation = self.evaluations(ruleset, findings, conduct, decided_day or self.end) if "propose" in path else None
        if "investigate" in path:
            event("investigate", HistoryAction.INVESTIGATE, insp, CaseState.INVESTIGATING)
            items = list(findings.items())
            if "propose" not in path:
                items = items[: _randint(rng, 0, len(items))]
            last = when.get("propose") or when.get("withdraw") or self.end
            for clause, status in items:
                span = max(0, (last - when["investigate"]).days)
                day = when["investigate"] + dt.timedelta(days=_randint(rng, 0, span))
                story.findings.append((clause, status, day))
            story.findings.sort(key=lambda f: f[2])
            for clause, status, day in story.findings:
                story.events.append(_Event(day, HistoryAction.RECORD_FINDING, inspector, Role.INSPECTOR, dc.name,
                                           CaseState.INVESTIGATING, CaseState.INVESTIGATING, changes={
                                               "clause": clause, "before": None,
                                               "after": {"status": status, "reasoning": "经调查核实，相关证据材料在卷。"}}))
        outcome = ""
        if "propose" in path and evaluation is not None:
            allowed = evaluation.get("outcomes") or []
            departs = rng.random() < 0.05 or not allowed
            if departs:
                choices = [o for o in Outcome.values if o not in allowed]
                outcome = rng.choice(choices)
            else:
                outcome = rng.choice(allowed)
            if "appeal" in path:
                outcome = Outcome.REFUSED  # only a refusal can be appealed
            story.proposal = {"outcome": outcome, "evaluation": evaluation, "day": when["propose"], "by": inspector}
            event("propose", HistoryAction.PROPOSE, insp, CaseState.PROPOSED, changes={
                "recommended_outcome": outcome, "round": 1, "verdict": evaluation.get("verdict"), "consult": [od.name]})
            answered = "decide" in path or rng.random() < 0.5
            reply_day = None
            if answered:
                hi = (when["decide"] - when["propose"]).days - 1 if "decide" in path else (self.end - when["propose"]).days
                reply_day = when["propose"] + dt.timedelta(days=_randint(rng, 0, max(0, hi)))
                story.events.append(_Event(reply_day, HistoryAction.CONSULT_REPLY, orgdept_user, Role.ORGDEPT, od.name,
                                           CaseState.PROPOSED, CaseState.PROPOSED, changes={
                                               "organisation": od.name, "opinion": ConsultationOpinion.AGREE,
                                               "comment": ""}))
            story.consultation = {"org": od.pk, "replied": reply_day, "by": orgdept_user}
            story.notifications.append({"user": orgdept_user, "text": f"会商请求：{subject.name}《{case.title}》",
                                        "task": HistoryAction.CONSULT_REPLY, "day": when["propose"], "done": reply_day})
            story.notifications.append({"user": comm_user, "text": f"待研究决定：{subject.name}《{case.title}》",
                                        "task": HistoryAction.DECIDE, "day": when["propose"],
                                        "done": when.get("decide")})
        if "decide" in path and evaluation is not None:
            override = _override(outcome, evaluation)
            story.decisions.append({"kind": DecisionKind.DECISION, "outcome": outcome, "day": when["decide"],
                                    "override": override, "evaluation": evaluation, "findings": findings,
                                    "by": comm_user, "result": ""})
            case.outcome = outcome
            case.decision_date = when["decide"]
            event("decide", HistoryAction.DECIDE, comm, CaseState.DECIDED, reason=override, changes={
                "outcome": outcome, "meeting_date": when["decide"].isoformat(), "attendance": "9/11",
                "verdict": evaluation.get("verdict"), "override": bool(override)})
            story.notifications.append({"user": inspector, "text": f"党委已作出决定（{Outcome(outcome).label}），请执行并书面反馈",
                                        "task": HistoryAction.EXECUTE, "day": when["decide"],
                                        "done": when.get("execute")})
        if "execute" in path:
            case.delivered_on = when["execute"]
            case.appeal_deadline = when["execute"] + dt.timedelta(days=30)
            event("execute", HistoryAction.EXECUTE, insp, CaseState.EXECUTED, changes={
                "delivered_on": case.delivered_on.isoformat(), "appeal_deadline": case.appeal_deadline.isoformat()})
        if "appeal" in path:
            story.appeal = {"day": when["appeal"], "by": unit_officer, "result": ""}
            event("appeal", HistoryAction.APPEAL, (unit_officer, Role.UNIT, unit.name), CaseState.APPEALED,
                  reason="申诉人认为原决定对客观原因考虑不足，请求复核。")
        if "review" in path:
            story.appeal["result"] = AppealResult.UPHELD  # type: ignore[index]
            story.decisions.append({"kind": DecisionKind.APPEAL_REVIEW, "outcome": Outcome.REFUSED,
                                    "day": when["review"], "override": _override(Outcome.REFUSED, evaluation), "evaluation": evaluation,
                                    "findings": findings, "by": comm_user, "result": AppealResult.UPHELD})
            event("review", HistoryAction.REVIEW_APPEAL, comm, CaseState.CLOSED, changes={
                "result": AppealResult.UPHELD, "outcome": Outcome.REFUSED, "meeting_date": when["review"].isoformat()})
        if "close" in path:
            event("close", HistoryAction.CLOSE, (None, "system", ""), CaseState.CLOSED, reason="申诉期限届满，自动办结")
        if "withdraw" in path:
            event("withdraw", HistoryAction.WITHDRAW, insp, CaseState.WITHDRAWN, reason="问责决定已撤销，不再需要容错认定。")
        last_day = max(e.day for e in story.events)
        if state in self.days:
            stage_start = max(e.day for e in story.events if e.to_state == state and e.from_state != state)
            case.deadline = stage_start + dt.timedelta(days=self.days[state])
        elif state == CaseState.EXECUTED and case.outcome == Outcome.REFUSED:
            case.deadline = case.appeal_deadline
        case.updated_at = self.clock.at(last_day, 18)
        case.revision = len(story.events)
        return story


# --- rows of a batch ------------------------------------------------------------------------------------
#
# A batch is turned into plain rows (one dict of attribute name -> value per row, ids included) once; a sink
# then writes them: with COPY on PostgreSQL, with bulk_create elsewhere. Ids are given here, from the
# tables' maxima when the run starts (the generator must be the only writer of these tables while it runs;
# the sequences are moved past the ids at the end of every batch).

ROW_MODELS: tuple[type[models.Model], ...] = (
    Case, Finding, Proposal, Consultation, Decision, Notification, Appeal, Document, OutboxEvent, HistoryEntry)
REASONING = "经调查核实，相关证据材料在卷。"


@dataclass
class Batch:
    """The rows of one batch, the chain it continues and ends with, and the document counters after it."""

    rows: dict[type[models.Model], list[dict[str, Any]]]
    chain_from: str
    chain_to: str
    numbers: dict[tuple[int, int], int]
    max_ids: dict[type[models.Model], int]
    case_ids: list[int] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())


_sorted_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


class _Chain:
    """The history chain keyed exactly as ``workflow.history.entry_digest`` keys an entry, built without
    model instances: the JSON body is assembled from cached pieces (the keys in sorted order), and the
    HMAC is copied from one keyed with the key (a test checks the result against ``entry_digest``)."""

    def __init__(self, algorithm: str, prev: str) -> None:
        self.algorithm = algorithm
        self.prev = prev
        digest = KEYED_ALGORITHMS.get(algorithm)
        self.keyed = hmac.new(settings.HISTORY_HMAC_KEY.encode(), digestmod=digest) if digest else None
        self.strings: dict[str, str] = {}

    def _js(self, text: str) -> str:
        found = self.strings.get(text)
        if found is None:
            found = json.dumps(text, ensure_ascii=False)
            if len(self.strings) < 100_000:
                self.strings[text] = found
        return found

    def append(self, row: dict[str, Any]) -> None:
        """Set ``prev_hash`` and ``hash`` of the next entry (a dict of HistoryEntry attribute names)."""
        row["prev_hash"] = self.prev
        row["algorithm"] = self.algorithm
        if self.keyed is None:
            row["hash"] = entry_digest(HistoryEntry(**row))
        else:
            js = self._js
            actor = row["actor_id"]
            changes = _sorted_json(row["changes"])
            # The stored value is the same JSON (jsonb keeps no key order): COPY writes this text as is.
            row["changes"] = JSONText(row["changes"], changes)
            payload = (
                f'{{"action":{js(row["action"])},"actor":{"null" if actor is None else actor},'
                f'"actor_name":{js(row["actor_name"])},"algorithm":{js(self.algorithm)},'
                f'"at":"{row["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")}","case":{row["case_id"]},'
                f'"changes":{changes},'
                f'"from":{js(row["from_state"])},"ip":null,"organisation":{js(row["organisation"])},'
                f'"prev":"{self.prev}","reason":{js(row["reason"])},"role":{js(row["role"])},'
                f'"to":{js(row["to_state"])},"via":{js(row["via"])}}}')
            mac = self.keyed.copy()
            mac.update(payload.encode())
            row["hash"] = mac.hexdigest()
        self.prev = row["hash"]


class RowBuilder:
    """Turns stories into rows with ids, document numbers and the chain (in generation order)."""

    def __init__(self, *, clock: _Clock, algorithm: str) -> None:
        self.clock = clock
        self.numbers: dict[tuple[int, int], int] = {
            (o, y): last for o, y, last in DocumentNumber.objects.values_list("organisation_id", "year", "last")}
        self.names: dict[int, str] = dict(Organisation.objects.values_list("pk", "short_name"))
        self.full_names: dict[int, str] = dict(Organisation.objects.values_list("pk", "name"))
        self.next_id = {m: (m.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1 for m in ROW_MODELS}
        head = ChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first()
        self.chain = _Chain(algorithm, head or GENESIS)
        self.display: dict[int, str] = {}
        self.case_fields = [f.attname for f in Case._meta.concrete_fields]
        self.inputs: dict[tuple[tuple[str, str], ...], JSONText] = {}

    def _inputs(self, findings: dict[str, str]) -> JSONText:
        """A decision's inputs: the findings (with the reasoning every generated finding carries) and the facts;
        one value per findings pattern."""
        key = tuple(findings.items())
        found = self.inputs.get(key)
        if found is None:
            value = {"findings": {k: {"status": v, "reasoning": REASONING} for k, v in findings.items()}, "facts": FACTS}
            found = self.inputs[key] = JSONText(value, json.dumps(value, ensure_ascii=False))
        return JSONText(found, found.json, found.copy)

    def _id(self, model: type[models.Model]) -> int:
        n = self.next_id[model]
        self.next_id[model] = n + 1
        return n

    def _number(self, org_id: int, year: int) -> str:
        n = self.numbers.get((org_id, year), 0) + 1
        self.numbers[(org_id, year)] = n
        return f"{self.names.get(org_id) or self.full_names[org_id]}〔{year}〕{n}号"

    def _name(self, user: User | None) -> str:
        if user is None:
            return "系统"
        found = self.display.get(user.pk)
        if found is None:
            found = self.display[user.pk] = user.display_name()
        return found

    def build(self, stories: list[_Story]) -> Batch:
        rows: dict[type[models.Model], list[dict[str, Any]]] = {m: [] for m in ROW_MODELS}
        chain_from = self.chain.prev
        at = self.clock.at
        for s in stories:
            c = s.case
            case_id = self._id(Case)
            decision = next((d for d in s.decisions if d["kind"] == DecisionKind.DECISION), None)
            if decision is not None:
                c.decided_at = at(decision["day"], 17)
            row = {name: c.__dict__.get(name) for name in self.case_fields}
            row["id"] = case_id
            # The stored case number, as ``reference_expression`` computes it: creation year (UTC) and id.
            row["reference"] = f"容案{c.created_at.astimezone(dt.UTC).year}-{case_id:05d}"
            rows[Case].append(row)
            rows[Finding] += [{"id": self._id(Finding), "case_id": case_id, "clause_id": clause, "status": status,
                               "reasoning": REASONING, "recorded_by_id": c.handler_id, "recorded_at": at(day)}
                              for clause, status, day in s.findings]
            proposal_id = None
            if s.proposal:
                p = s.proposal
                proposal_id = self._id(Proposal)
                rows[Proposal].append({
                    "id": proposal_id, "case_id": case_id, "round": 1, "recommended_outcome": p["outcome"],
                    "opinion": "经调查核实，提出初步意见如下，请党委（党组）集体研究。", "evaluation": p["evaluation"],
                    "proposed_by_id": p["by"].pk, "proposed_at": at(p["day"], 9)})
            if s.consultation:
                r = s.consultation["replied"]
                rows[Consultation].append({
                    "id": self._id(Consultation), "proposal_id": proposal_id, "case_id": case_id,
                    "case_created_at": c.created_at, "organisation_id": s.consultation["org"],
                    "opinion": ConsultationOpinion.AGREE if r else "",
                    "replied_by_id": s.consultation["by"].pk if r else None, "replied_at": at(r, 16) if r else None})
            review_id = None
            for seq, d in enumerate(s.decisions, start=1):
                ev = d["evaluation"]
                decision_id = self._id(Decision)
                decided_at = at(d["day"], 17)
                rows[Decision].append({
                    "id": decision_id, "case_id": case_id, "kind": d["kind"], "sequence": seq, "outcome": d["outcome"],
                    "meeting_kind": "standing", "meeting_date": d["day"], "members_present": 9, "members_total": 11,
                    "resolution": "经党委（党组）会议集体研究，作出如下决定。", "override_reason": d["override"],
                    "appeal_result": d["result"], "evaluation": ev,
                    "inputs": self._inputs(d["findings"]),
                    "ruleset_version": str(ev.get("version", "")), "ruleset_hash": str(ev.get("content_hash", "")),
                    "engine_version": str(ev.get("engine_version", "")), "recorded_by_id": d["by"].pk,
                    "decided_at": decided_at})
                is_decision = d["kind"] == DecisionKind.DECISION
                if not is_decision:
                    review_id = decision_id
                for kind in ((DocumentKind.FEEDBACK, DocumentKind.FILING) if is_decision else (DocumentKind.APPEAL_REVIEW,)):
                    rows[Document].append({
                        "id": self._id(Document), "case_id": case_id, "kind": kind, "version": 1,
                        "number": self._number(c.accountability_org_id, d["day"].year),
                        "issuing_org_id": c.accountability_org_id, "decision_id": decision_id,
                        "status": DocumentStatus.FAILED, "error": DOCUMENT_NOTE,
                        "reason": "作出决定" if is_decision else "申诉复核",
                        "token": hashlib.sha256(f"{c.submission_key}-{kind}".encode()).hexdigest()[:22],
                        "created_at": decided_at})
                rows[OutboxEvent].append({
                    "id": self._id(OutboxEvent), "kind": OutboxKind.CASE_DECIDED if is_decision else OutboxKind.APPEAL_REVIEWED,
                    "case_id": case_id, "created_at": decided_at,
                    "payload": JSONText({"decision": decision_id}, f'{{"decision": {decision_id}}}'),
                    "dispatched_at": decided_at + dt.timedelta(seconds=30), "attempts": 1})
            if s.appeal:
                rows[Appeal].append({
                    "id": self._id(Appeal), "case_id": case_id, "reasons": "申诉人认为原决定对客观原因考虑不足，请求复核。",
                    "filed_by_id": s.appeal["by"].pk, "filed_at": at(s.appeal["day"], 10), "result": s.appeal["result"],
                    "review_decision_id": review_id})
            for n in s.notifications:
                done = at(n["done"], 18) if n["done"] else None
                rows[Notification].append({
                    "id": self._id(Notification), "user_id": n["user"].pk, "case_id": case_id, "text": n["text"][:300],
                    "task": n["task"], "created_at": at(n["day"], 8), "done_at": done, "read_at": done})
            history = rows[HistoryEntry]
            for order, e in enumerate(sorted(s.events, key=lambda e: e.day)):
                hour = min(8 + order, 17) if e.action != HistoryAction.DECIDE else 17
                entry = {
                    "id": self._id(HistoryEntry), "case_id": case_id, "actor_id": e.actor.pk if e.actor else None,
                    "actor_name": self._name(e.actor), "role": e.role, "organisation": e.org, "at": at(e.day, hour),
                    "action": e.action, "from_state": e.from_state, "to_state": e.to_state, "reason": e.reason,
                    "changes": e.changes, "ip": None, "via": "generated"}
                self.chain.append(entry)
                history.append(entry)
        return Batch(rows=rows, chain_from=chain_from, chain_to=self.chain.prev, numbers=dict(self.numbers),
                     max_ids={m: n - 1 for m, n in self.next_id.items()})


# --- writing a batch ----------------------------------------------------------------------------------

def _head_check(batch: Batch) -> ChainHead:
    """The chain head, locked; refuses if anything else appended to the chain since the batch was built."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.create(pk=1, last_hash=GENESIS)
        head = ChainHead.objects.select_for_update().get(pk=1)
    if head.last_hash != batch.chain_from:
        raise GenerationRefused("生成期间操作记录链被其他写入改变，已停止；请在没有其他写入时重新生成。")
    return head


def _numbers_store(numbers: dict[tuple[int, int], int]) -> None:
    have = {(o, y): last for o, y, last in DocumentNumber.objects.values_list("organisation_id", "year", "last")}
    new = []
    for (org_id, year), last in sorted(numbers.items()):
        if (org_id, year) not in have:
            new.append(DocumentNumber(organisation_id=org_id, year=year, last=last))
        elif have[(org_id, year)] < last:
            DocumentNumber.objects.filter(organisation_id=org_id, year=year, last__lt=last).update(last=last)
    DocumentNumber.objects.bulk_create(new)


class BulkSink:
    """Any database: ``bulk_create`` of model instances made from the rows, one transaction per batch."""

    def write(self, batch: Batch) -> None:
        with transaction.atomic(), _stored_timestamps(
            (Case, "created_at"), (Case, "updated_at"), (Finding, "recorded_at"), (Proposal, "proposed_at"),
            (Decision, "decided_at"), (Appeal, "filed_at"), (Notification, "created_at"),
            (Document, "created_at"), (OutboxEvent, "created_at"),
        ):
            head = _head_check(batch)
            for model in ROW_MODELS:
                model.objects.bulk_create([model(**r) for r in batch.rows[model]], batch_size=1000)
            head.last_hash = batch.chain_to
            head.save(update_fields=["last_hash"])
            _numbers_store(batch.numbers)

    def close(self) -> None:
        pass


_NULL = r"\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


class CopyTable:
    """How one model's rows go into ``COPY ... FROM STDIN`` (text format): every concrete field of the
    model in order, so a field added later is written too (its default when a row does not give it).
    Each value goes through the field's ``get_db_prep_value`` unless it is a plain str, int, bool, date,
    datetime or None, whose text form is known; JSON fields are dumped with the field's encoder."""

    def __init__(self, model: type[models.Model], connection: Any, *, extra: dict[str, Callable[[dict[str, Any]], str]]
                 | None = None) -> None:
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.columns = [connection.ops.quote_name(f.column) for f in fields]
        self.fields = fields
        self.compiled: dict[tuple[str, ...], Callable[[list[dict[str, Any]]], list[str]]] = {}
        self.spec: list[tuple[str, Callable[[Any], str], Callable[[], Any]]] = []
        for f in fields:
            self.spec.append((f.attname, self._converter(f, connection), self._default(f)))
        self.extra = extra or {}
        self.columns += [connection.ops.quote_name(c) for c in self.extra]
        self.sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({', '.join(self.columns)}) FROM STDIN"

    @staticmethod
    def _default(f: models.Field) -> Callable[[], Any]:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return timezone.now
        if f.has_default() and callable(f.default) and f.default not in (dict, list):
            return f.get_default
        value = f.get_default()
        return lambda: value

    @staticmethod
    def _converter(f: models.Field, connection: Any) -> Callable[[Any], str]:
        if isinstance(f, models.JSONField):
            encoder = f.encoder

            def json_text(value: Any) -> str:
                if value is None:
                    return _NULL
                if type(value) is JSONText:
                    return value.copy
                return _copy_text(json.dumps(value, ensure_ascii=False, cls=encoder))
            return json_text

        special, escapes = _COPY_SPECIAL.search, _COPY_ESCAPES
        datetime, date = dt.datetime, dt.date

        def other(value: Any) -> str:
            if isinstance(value, str):  # choices (str enums)
                return _copy_text(str.__str__(value))
            if value is True or value is False:
                return "t" if value else "f"
            if isinstance(value, int | dt.date):
                return value.isoformat() if isinstance(value, dt.date) else str(value)
            prepared = f.get_db_prep_value(value, connection, prepared=False)
            return _NULL if prepared is None else _copy_text(str(prepared))

        def text(value: Any) -> str:
            # The common types first, by exact type (bool is not int here); isoformat keeps the offset.
            kind = type(value)
            if kind is str:
                return value.translate(escapes) if special(value) else value
            if value is None:
                return _NULL
            if kind is int:
                return str(value)
            if kind is datetime or kind is date:
                return value.isoformat()
            return other(value)
        return text

    def encode(self, rows: list[dict[str, Any]]) -> io.StringIO:
        out = io.StringIO()
        if rows:
            encode = self._compiled(tuple(rows[0]))
            for start in range(0, len(rows), 5000):
                out.write("\n".join(encode(rows[start:start + 5000])))
                out.write("\n")
        out.seek(0)
        return out

    def _compiled(self, keys: tuple[str, ...]) -> Callable[[list[dict[str, Any]]], list[str]]:
        """A function turning rows with these keys into COPY lines, compiled once per key set: one f-string
        per row, each value written by an expression chosen for its field (a plain int, date or datetime
        as is, a text escaped only when it holds a special character, JSON as its own text); the rest through
        the field's general converter, and a column the rows do not give as its default."""
        found = self.compiled.get(keys)
        if found is not None:
            return found
        given = set(keys)
        env: dict[str, Any] = {"T": _text_value, "J": _json_value, "N": _NULL, "BS": "\\", "TAB": "\t", "NL": "\n",
                               "CR": "\r"}
        parts = []
        for i, (name, conv, default) in enumerate(self.spec):
            f = self.fields[i]
            value = f"r[{name!r}]"
            if name not in given:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) or (
                        f.has_default() and callable(f.default) and f.default not in (dict, list)):
                    env[f"c{i}"], env[f"d{i}"] = conv, default
                    parts.append(f"{{c{i}(d{i}())}}")
                else:  # the same default for every row
                    env[f"k{i}"] = conv(default())
                    parts.append(f"{{k{i}}}")
            elif isinstance(f, models.JSONField) and f.encoder is None:
                parts.append(f"{{J({value})}}")
            elif isinstance(f, models.BooleanField):
                parts.append(f"{{N if {value} is None else 't' if {value} else 'f'}}")
            elif isinstance(f, models.IntegerField | models.AutoField | models.ForeignKey | models.DateField) \
                    and not isinstance(f, models.DateTimeField) and (
                        not isinstance(f, models.ForeignKey)
                        or isinstance(f.target_field, models.IntegerField | models.AutoField)):
                # ints and dates: their str() is what COPY reads (exact types are checked below)
                env[f"c{i}"] = conv
                env[f"K{i}"] = dt.date if isinstance(f, models.DateField) else int
                parts.append(f"{{N if (v := {value}) is None else v if type(v) is K{i} else c{i}(v)}}")
            elif isinstance(f, models.DateTimeField):
                env[f"c{i}"] = conv
                parts.append(f"{{N if (v := {value}) is None else c{i}(v) if type(v) is not D else v.isoformat()}}")
            elif isinstance(f, models.CharField | models.TextField) and not isinstance(
                    f, models.GenericIPAddressField):
                # a plain str without a character COPY escapes, as is (the common case, without a call)
                parts.append(f"{{v if (v := {value}).__class__ is str and BS not in v and TAB not in v "
                             f"and NL not in v and CR not in v else T(v)}}")
            else:
                env[f"c{i}"] = conv
                parts.append(f"{{c{i}({value})}}")
        env["D"] = dt.datetime
        for j, fn in enumerate(self.extra.values()):
            env[f"x{j}"] = fn
            parts.append(f"{{x{j}(r)}}")
        source = "def encode(rows):\n    return [f\"" + "\\t".join(parts) + "\" for r in rows]\n"
        exec(compile(source, f"<copy {self.model._meta.db_table}>", "exec"), env)  # noqa: S102 - our own source
        self.compiled[keys] = env["encode"]
        return env["encode"]


def _text_value(value: Any) -> str:
    """A char or text value for COPY: a plain str as is unless it holds a character COPY escapes."""
    if value.__class__ is not str:
        if value is None:
            return _NULL
        value = str.__str__(value) if isinstance(value, str) else str(value)  # choices (str enums)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _json_value(value: Any) -> str:
    if value is None:
        return _NULL
    if value.__class__ is JSONText:
        return value.copy
    if not value and value.__class__ in (list, dict):
        return "[]" if value.__class__ is list else "{}"
    return _copy_text(json.dumps(value, ensure_ascii=False))


class SearchVectors:
    """The cases' bigram search vector (``search_bigrams``, PostgreSQL only) computed here, exactly as the
    trigger ``cases_case_search_insert`` computes it with ``case_search_vector``: the character bigrams and
    word ends of the title, the summary, the subject's name and the subject's unit, each parsed by PostgreSQL's
    ``simple`` configuration once (asked for in bulk, then remembered), positions counted over the whole
    text. Each batch's written vectors are compared with the SQL function on a sample; a difference makes
    the batch fall back to the SQL function (``check``)."""

    TRIGGER = "cases_case_search_insert"

    def __init__(self) -> None:
        self.lexemes: dict[str, tuple[str, ...]] = {}
        self.sequences: dict[str, list[str]] = {}
        self.quoted: dict[str, str] = {}
        self.people: dict[int, tuple[str, str]] = {
            pk: (name or "", unit or "") for pk, name, unit in Person.objects.values_list("pk", "name", "unit__name")}

    @classmethod
    def for_database(cls) -> SearchVectors | None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = 'cases_case'::regclass",
                           [cls.TRIGGER])
            return cls() if cursor.fetchone() else None

    @staticmethod
    def bigrams(text: str | None) -> list[str]:
        """``case_search_terms``: lower-cased, split on whitespace, each character with the next (the
        bigrams, ``case_search_bigrams``), then each word's last character (``case_search_ends``)."""
        out: list[str] = []
        words = re.split(r"\s+", (text or "").lower())
        for word in words:
            out += [word[i:i + 2] for i in range(len(word) - 1)]
        return out + [word[-1] for word in words if word]

    def _all_bigrams(self, row: dict[str, Any]) -> list[str]:
        name, unit = self.people.get(row["subject_id"], ("", ""))
        return (self.bigrams(row["title"]) + self.bigrams(row["summary"]) + self.bigrams(name)
                + self.bigrams(unit))

    def prepare(self, rows: list[dict[str, Any]]) -> None:
        """Ask PostgreSQL once for how the ``simple`` configuration parses each bigram not seen yet."""
        for row in rows:
            if row["subject_id"] not in self.people:
                self.people.update({pk: (name or "", unit or "") for pk, name, unit in Person.objects.filter(
                    pk=row["subject_id"]).values_list("pk", "name", "unit__name")})
        unknown = {b for row in rows for b in self._all_bigrams(row) if b not in self.lexemes}
        if not unknown:
            return
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT b, ARRAY(SELECT u.lexeme FROM unnest(to_tsvector('simple', b)) u ORDER BY u.positions[1]) "
                "FROM unnest(%s::text[]) AS b", [sorted(unknown)])
            self.lexemes.update({b: tuple(lexemes) for b, lexemes in cursor.fetchall()})

    def _sequence(self, text: str) -> list[str]:
        """The lexemes of one text's bigrams in order (remembered for texts that recur: titles, names, units)."""
        found = self.sequences.get(text)
        if found is None:
            lexemes = self.lexemes
            found = [lexeme for b in self.bigrams(text) for lexeme in lexemes[b]]
            if len(self.sequences) < 200_000:
                self.sequences[text] = found
        return found

    def literal(self, row: dict[str, Any]) -> str:
        """The row's vector as a ``tsvector`` literal, escaped for COPY."""
        name, unit = self.people.get(row["subject_id"], ("", ""))
        sequence = (self._sequence(row["title"] or "") + self._sequence(row["summary"] or "") + self._sequence(name)
                    + self._sequence(unit))
        positions: dict[str, list[int]] = {}
        for pos, lexeme in enumerate(sequence, 1):
            found = positions.get(lexeme)
            if found is None:
                positions[lexeme] = [min(pos, 16383)]
            else:
                found.append(min(pos, 16383))
        quoted = self.quoted
        text = " ".join((quoted.get(lexeme) or self._quote(lexeme)) + ",".join(map(str, p[:256]))
                        for lexeme, p in positions.items())
        return _copy_text(text)

    def _quote(self, lexeme: str) -> str:
        quoted = self.quoted[lexeme] = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "':"
        return quoted

    @staticmethod
    def check(cursor: Any, ids: list[int]) -> int:
        """Compare a sample of the batch with the SQL function; on any difference recompute the whole batch
        there. Returns 1 if it had to, else 0."""
        if not ids:
            return 0
        sample = ids[:: max(1, len(ids) // 25)]
        cursor.execute("SELECT count(*) FROM cases_case WHERE id = ANY(%s) AND search_bigrams IS DISTINCT FROM "
                       "case_search_vector(title, summary, subject_id)", [sample])
        if cursor.fetchone()[0] == 0:
            return 0
        cursor.execute("UPDATE cases_case SET search_bigrams = case_search_vector(title, summary, subject_id) "
                       "WHERE id = ANY(%s)", [ids])
        return 1


class _Aborted(Exception):
    """The caller failed during a bulk load: the writer rolls the run back."""


def _toast_lz4(cursor: Any) -> None:
    """Compress the large values (the evaluations' JSON) with lz4 where the server has it, for this
    transaction only: the same values, about half the time pglz takes to store them."""
    cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    found = cursor.fetchone()
    if found and found[0]:
        cursor.execute("SET LOCAL default_toast_compression = lz4")


class BulkLoad:
    """A large run on PostgreSQL: the secondary indexes, the unique and foreign-key constraints of the tables
    being filled and the cases' insert triggers are set aside, the rows copied, and everything put back from
    the definitions PostgreSQL gave before (``pg_get_indexdef``, ``pg_get_constraintdef``): one index build
    per index instead of a search per row, one validating join per foreign key instead of a lookup per row.

    All of it happens in the one transaction that holds every batch: if the run fails anywhere, the rollback
    restores each index, constraint and trigger exactly as it was (and writes nothing). The tables are locked
    for the run (``DROP INDEX`` takes an exclusive lock): nothing else can read them meanwhile.

    Kept: primary keys (other tables' foreign keys point at them), unique constraints a foreign key relies
    on, check constraints and the triggers that refuse changes to the history. ``managed_by`` is set by
    the generator as the trigger would set it, and compared with the subjects in one statement at the end."""

    TRIGGERS = ("cases_case_search_insert", "cases_case_managed_by_insert")

    def __init__(self, models_: tuple[type[models.Model], ...]) -> None:
        self.tables = [m._meta.db_table for m in models_]
        self.indexes: list[tuple[str, str]] = []  # (name, CREATE INDEX ...)
        self.constraints: list[tuple[str, str, str, str]] = []  # (kind, table, name, definition)
        self.triggers: list[str] = []
        self.first_case_id = 0
        self.timings: dict[str, float] = {}  # seconds spent rebuilding, by kind

    def drop(self, cursor: Any) -> None:
        quote = connections["default"].ops.quote_name
        cursor.execute(
            "SELECT c.contype, c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND (c.contype = 'f' OR "
            "(c.contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' "
            "AND r.conindid = c.conindid))) ORDER BY c.contype DESC, 2, 3", [self.tables])
        self.constraints = cursor.fetchall()  # unique ones first: put back before the foreign keys
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            [self.tables])
        self.indexes = cursor.fetchall()
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_case'::regclass "
                       "AND tgname = ANY(%s) AND tgenabled = 'O' ORDER BY 1", [list(self.TRIGGERS)])
        self.triggers = [r[0] for r in cursor.fetchall()]
        for _kind, table, name, _definition in reversed(self.constraints):  # foreign keys first
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in self.indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        for name in self.triggers:
            cursor.execute(f"ALTER TABLE cases_case DISABLE TRIGGER {quote(name)}")
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM cases_case")
        self.first_case_id = cursor.fetchone()[0]

    def restore(self, cursor: Any) -> int:
        """Put back what ``drop`` set aside; returns the number of cases whose ``managed_by`` had to be
        corrected (0 unless the generator and the trigger disagree)."""
        quote = connections["default"].ops.quote_name
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        self.timings = {"unique": 0.0, "index": 0.0, "foreign key": 0.0}
        steps = [("unique", f"ALTER TABLE {quote(t)} ADD CONSTRAINT {quote(n)} {d}") for k, t, n, d in self.constraints
                 if k == "u"]
        steps += [("index", definition) for _name, definition in self.indexes]
        steps += [("foreign key", f"ALTER TABLE {quote(t)} ADD CONSTRAINT {quote(n)} {d}")
                  for k, t, n, d in self.constraints if k == "f"]
        for what, sql in steps:
            started = time.monotonic()
            cursor.execute(sql)
            self.timings[what] += time.monotonic() - started
        for name in self.triggers:
            cursor.execute(f"ALTER TABLE cases_case ENABLE TRIGGER {quote(name)}")
        cursor.execute(
            "UPDATE cases_case c SET managed_by_id = coalesce(p.managing_committee_id, p.unit_id) "
            "FROM accounts_person p WHERE p.id = c.subject_id AND c.id >= %s "
            "AND c.managed_by_id IS DISTINCT FROM coalesce(p.managing_committee_id, p.unit_id)", [self.first_case_id])
        return cursor.rowcount


class CopySink:
    """PostgreSQL: every table of a batch through ``COPY FROM STDIN`` in one transaction holding the chain
    head's lock; the sequences are then moved past the ids given. Batches are encoded by the caller's thread
    and written by a thread of their own, so PostgreSQL works on one batch while Python builds the next."""

    def __init__(self, *, bulk: bool = False) -> None:
        conn = connections["default"]
        self.vectors = SearchVectors.for_database()
        extra = {"search_bigrams": self.vectors.literal} if self.vectors is not None else None
        self.tables = {m: CopyTable(m, conn, extra=extra if m is Case else None) for m in ROW_MODELS}
        self.vector_fallbacks = 0
        self.managed_fixed = 0
        # One transaction for the whole run, indexes and constraints set aside meanwhile (``BulkLoad``).
        self.bulk = BulkLoad(ROW_MODELS) if bulk else None
        self.chain_at: str | None = None  # bulk: where the chain stands in the run's transaction
        self.savepoint: str | None = None
        self.queue: queue.Queue[tuple[Batch, dict[type[models.Model], io.StringIO]] | str | None] = \
            queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        # Called inside a transaction (a test, a caller's atomic block), the rows go into that transaction,
        # so no thread: another connection would not see what the transaction holds.
        self.thread: threading.Thread | None = None
        if not conn.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name="generate-copy", daemon=True)
            self.thread.start()

    def write(self, batch: Batch) -> None:
        if self.error is not None:
            raise self.error
        if self.vectors is not None:
            self.vectors.prepare(batch.rows[Case])
        encoded = {m: self.tables[m].encode(batch.rows[m]) for m in ROW_MODELS if batch.rows[m]}
        batch.case_ids = [r["id"] for r in batch.rows[Case]]
        batch.rows = {m: [] for m in ROW_MODELS}  # the text is all the writer needs: free the dicts
        if self.thread is None:
            if self.bulk is not None and self.savepoint is None:
                self.savepoint = transaction.savepoint()
            self._copy(batch, encoded)
        else:
            self.queue.put((batch, encoded))

    def _run(self) -> None:
        ended = False  # the caller's last item (None) taken: nothing more will come
        try:
            if self.bulk is None:
                while (item := self.queue.get()) is not None:
                    if self.error is None and not isinstance(item, str):
                        self._copy(*item)
                ended = True
            else:
                with transaction.atomic():
                    while (item := self.queue.get()) is not None:
                        if isinstance(item, str):  # the caller failed: roll everything back
                            raise _Aborted
                        self._copy(*item)
                    ended = True
                    self._bulk_end()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc
            while not ended and self.queue.get() is not None:
                pass
        finally:
            connections.close_all()

    def _bulk_begin(self, batch: Batch) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            _toast_lz4(cursor)
            self.chain_at = _head_check(batch).last_hash
            self.bulk.drop(cursor)  # type: ignore[union-attr]

    def _bulk_end(self) -> None:
        with connections["default"].cursor() as cursor:
            self.managed_fixed = self.bulk.restore(cursor)  # type: ignore[union-attr]

    def _copy(self, batch: Batch, encoded: dict[type[models.Model], io.StringIO]) -> None:
        if self.bulk is not None:
            self._copy_bulk(batch, encoded)
            return
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                _toast_lz4(cursor)
                head = _head_check(batch)
                raw = cursor.cursor
                if self.vectors is not None:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending on the table to alter
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                    # The vectors come with the rows (computed as the trigger would); the trigger would
                    # recompute each one in SQL, the slowest part of the load. Only for this transaction.
                    cursor.execute(f"ALTER TABLE cases_case DISABLE TRIGGER {SearchVectors.TRIGGER}")
                for model, text in encoded.items():
                    raw.copy_expert(self.tables[model].sql, text)
                    if model is Case and self.vectors is not None:
                        # The cases' deferred foreign-key checks run now: a table with pending trigger
                        # events cannot be altered.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute(f"ALTER TABLE cases_case ENABLE TRIGGER {SearchVectors.TRIGGER}")
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                        self.vector_fallbacks += SearchVectors.check(cursor, batch.case_ids)
                for model in encoded:
                    table = model._meta.db_table
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, batch.max_ids[model]])
            head.last_hash = batch.chain_to
            head.save(update_fields=["last_hash"])
            _numbers_store(batch.numbers)

    def _copy_bulk(self, batch: Batch, encoded: dict[type[models.Model], io.StringIO]) -> None:
        if self.chain_at is None:
            self._bulk_begin(batch)
        if batch.chain_from != self.chain_at:
            raise GenerationRefused("生成期间操作记录链被其他写入改变，已停止；请在没有其他写入时重新生成。")
        with connections["default"].cursor() as cursor:
            raw = cursor.cursor
            for model, text in encoded.items():
                raw.copy_expert(self.tables[model].sql, text, size=1 << 20)
                if model is Case and self.vectors is not None:
                    self.vector_fallbacks += SearchVectors.check(cursor, batch.case_ids)
            for model in encoded:
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                               [model._meta.db_table, batch.max_ids[model]])
        ChainHead.objects.filter(pk=1).update(last_hash=batch.chain_to)
        _numbers_store(batch.numbers)
        self.chain_at = batch.chain_to

    def close(self, *, ok: bool = True) -> None:
        """Finish the run (``ok``), or after a failure of the caller's, stop (in bulk mode: roll back)."""
        if self.thread is not None:
            if not ok:
                self.queue.put("abort")
            self.queue.put(None)
            self.thread.join()
        elif self.bulk is not None and self.chain_at is not None:
            if ok and self.error is None:
                self._bulk_end()
            if self.savepoint is not None:
                if ok and self.error is None:
                    transaction.savepoint_commit(self.savepoint)
                else:
                    transaction.savepoint_rollback(self.savepoint)
        if not ok:  # the caller's own exception is on its way: it says what went wrong
            if self.error is not None and not isinstance(self.error, _Aborted):
                logger.warning("generate_cases: the writer also failed: %r", self.error)
            return
        if self.error is not None:
            raise self.error
        with connections["default"].cursor() as cursor:
            for model in ROW_MODELS:
                cursor.execute(f"ANALYZE {connections['default'].ops.quote_name(model._meta.db_table)}")


BULK_FROM = 50_000  # cases: from here on (and at least as many as the database holds), the bulk load


def bulk_default(count: int) -> bool:
    """Is a bulk load (``BulkLoad``) worth it? Rebuilding the indexes costs what the whole tables cost,
    so only when the run at least doubles them and is large."""
    return (connections["default"].vendor == "postgresql" and count >= BULK_FROM
            and count >= Case.objects.count())


def cases_generate(*, count: int, seed: int, end: dt.date, years: int = 5, batch: int = 2000,
                   progress: Callable[[int, int], None] | None = None, copy: bool | None = None,
                   bulk: bool | None = None, report: Callable[[str], None] | None = None) -> int:
    """Generate ``count`` cases; returns the number of rows written. Checks are the caller's (the command).

    ``copy`` chooses the COPY writer (PostgreSQL only); by default it is used whenever the database is
    PostgreSQL, ``bulk_create`` otherwise. ``bulk`` (COPY only) writes the whole run in one transaction
    with the indexes and constraints set aside (``BulkLoad``); by default for large runs (``bulk_default``)."""
    # The tree draws from its own generator, so the cases a seed yields do not depend on whether the
    # organisations and people already existed.
    tree = tree_build(rng=random.Random(f"tree-{seed}"), people=max(100, count // 4))  # noqa: S311 - test data
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    maker = StoryMaker(tree=tree, rng=rng, seed=seed, end=end, years=years)
    builder = RowBuilder(clock=maker.clock, algorithm=settings.HISTORY_HMAC_ALGORITHM)
    if copy is None:
        copy = connections["default"].vendor == "postgresql"
    if bulk is None:
        bulk = copy and bulk_default(count)
    sink: CopySink | BulkSink = CopySink(bulk=bulk) if copy else BulkSink()
    done = rows = 0
    ok = False
    # The rows are millions of small dicts and strings without cycles: the collector's frequent passes over
    # them (and over everything Django loaded, frozen here) cost about a tenth of the run.
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        while done < count:
            n = min(batch, count - done)
            built = builder.build([maker.make(done + i) for i in range(n)])
            rows += built.count()
            sink.write(built)
            done += n
            reset_queries()  # with DEBUG on, Django keeps every query it ran
            if progress is not None:
                progress(done, count)
        ok = True
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        if isinstance(sink, CopySink):
            sink.close(ok=ok)
        else:
            sink.close()
    if isinstance(sink, CopySink) and sink.vector_fallbacks:
        logger.warning("generate_cases: %d batches' search vectors differed from the SQL function's and were "
                       "recomputed by it", sink.vector_fallbacks)
    if isinstance(sink, CopySink) and sink.bulk is not None and report is not None:
        t = sink.bulk.timings
        report(f"整批装载：重建 {len(sink.bulk.indexes)} 个索引 {t['index']:.1f} 秒，"
               f"{sum(1 for c in sink.bulk.constraints if c[0] == 'u')} 个唯一约束 {t['unique']:.1f} 秒，"
               f"{sum(1 for c in sink.bulk.constraints if c[0] == 'f')} 个外键（含校验）{t['foreign key']:.1f} 秒")
    if isinstance(sink, CopySink) and sink.managed_fixed:
        logger.warning("generate_cases: %d cases' managed_by differed from their subjects' and were corrected",
                       sink.managed_fixed)
    return rows
