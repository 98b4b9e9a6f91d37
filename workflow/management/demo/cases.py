"""Demo cases spread over every state and several rule sets, driven through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, User
from cases.models import Case, Outcome
from rules.loader import registry
from workflow import services
from workflow.history import Actor
from workflow.models import AppealResult


class _AlreadySeeded(Exception):
    """This demo case exists from an earlier run."""


def _actor(user: User, org: Organisation, role: str) -> Actor:
    return Actor(user=user, role=role, organisation=org.name, via="seed")


def tolerable_findings(case: Case, *, situation_index: int = 0) -> dict[str, str]:
    """All prerequisites met, one situation (and its requirements) met, no exclusion."""
    version = registry().version_for(case.ruleset, case.conduct_date)
    findings = {c.id: "met" for c in version.prerequisites()}
    situation = version.situations()[situation_index]
    findings[situation.id] = "met"
    findings.update({r.id: "met" for r in version.requirements_for(situation.id)})
    findings.update({c.id: "not_met" for c in version.exclusions()})
    return findings


def _record(case: Case, actor: Actor, findings: dict[str, str]) -> None:
    for clause_id, status in findings.items():
        services.finding_record(case_id=case.pk, actor=actor, clause_id=clause_id, status=status,
                                reasoning="经调查核实，相关证据材料在卷。")


def demo_cases_seed(*, world: Any) -> int:
    """Create the demo cases once (keyed by submission key); returns how many were created."""
    o, u, p = world.orgs, world.users, world.people
    insp = _actor(u["inspector"], o["zjk_dc"], "inspector")
    comm = _actor(u["committee"], o["zjk"], "committee")
    orgd = _actor(u["orgdept"], o["zjk_od"], "orgdept")
    cadre = _actor(u["cadre"], o["zjk_env"], "cadre")
    insp2 = _actor(u["inspector2"], o["zz_dc"], "inspector")
    comm2 = _actor(u["committee2"], o["zz"], "committee")
    insp3 = _actor(u["inspector3"], o["hohhot_dc"], "inspector")
    today = timezone.localdate()
    meeting = {"meeting_kind": "standing", "meeting_date": today, "members_present": 9, "members_total": 11}

    seed_started = timezone.now()

    def start(key: str, actor: Actor, org: Organisation, person: Any, title: str, category: str,
              summary: str, days_ago: int, **extra: Any) -> Case:
        case = services.case_create(
            actor=actor, title=title, subject=person, accountability_org=org,
            conduct_date=today - dt.timedelta(days=days_ago), matter_category=category, summary=summary,
            submission_key=f"demo-{key}", **extra,
        )
        if case.created_at < seed_started:
            raise _AlreadySeeded  # the same submission key returned the case made by an earlier run
        return case

    def investigated(case: Case, actor: Actor, situation_index: int = 0) -> Case:
        services.case_investigate(case_id=case.pk, actor=actor)
        _record(case, actor, tolerable_findings(case, situation_index=situation_index))
        return case

    def proposed(case: Case, actor: Actor, outcome: str = "exempt") -> Case:
        services.case_propose(case_id=case.pk, actor=actor, recommended_outcome=outcome,
                              opinion="经调查，符合前置条件和容错情形，建议予以容错。")
        return case

    def decided(case: Case, actor: Actor, outcome: str, override: str = "") -> Case:
        _answer_consultations(case)
        services.case_decide(case_id=case.pk, actor=actor, outcome=outcome, resolution="经集体研究，作出如下决定。",
                             override_reason=override, **meeting)
        return case

    plans: list[tuple[str, Callable[[], Case]]] = []

    def plan(key: str) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
        def wrap(fn: Callable[[], Case]) -> Callable[[], Case]:
            plans.append((key, fn))
            return fn
        return wrap

    @plan("started")
    def _() -> Case:
        return start("started", insp, o["zjk_dc"], p["housing1"], "老旧小区改造工程进度滞后问责", "construction",
                     "住建局城建科在老旧小区改造中为赶工期简化验收程序，导致部分工程返工。", 60)

    @plan("application")
    def _() -> Case:
        return start("application", cadre, o["zjk_dc"], None, "环境执法中先行查封企业被问责", "environment",
                     "在中央环保督察期间，对偷排企业先行查封，程序上未及时补办审批手续，被通报问责。", 45,
                     remedial_measures="已补办全部手续，并向企业说明情况。",
                     claimed_situations=[registry().version_for("zhangjiakou", today).situations()[0].id])

    @plan("unit-application")
    def _() -> Case:
        # The housing bureau applies in writing for its section chief (被问责干部所在单位提出申请).
        unit = _actor(u["unit"], o["zjk_housing"], "unit")
        return start("unit-application", unit, o["zjk_dc"], p["housing1"], "汛期危房紧急排险中先行拆除被问责",
                     "emergency", "汛期暴雨中，城建科科长张某组织对存在倒塌风险的危房先行拆除，未及时履行房屋鉴定"
                     "备案程序，被通报问责。单位认为其出于公心、及时处置险情，特代为申请容错。", 30,
                     remedial_measures="已补办鉴定备案手续，并对住户妥善安置。")

    @plan("unit-subject")
    def _() -> Case:
        # A unit held accountable as a unit (被问责单位), not one of its cadres.
        return start("unit-subject", insp, o["zjk_dc"], p["housing_unit"], "老旧小区改造专项资金拨付滞后问责",
                     "construction", "住建局为确保工程质量，对未通过中期验收的项目暂缓拨付专项资金，导致资金"
                     "拨付进度滞后于年度计划，单位被通报问责。", 50)

    @plan("investigating")
    def _() -> Case:
        case = start("investigating", insp, o["zjk_dc"], p["housing2"], "保障房分配审核疏漏", "approval",
                     "副局长在保障房分配中因审核标准不明确，出现个别不符合条件人员入住。", 90)
        services.case_investigate(case_id=case.pk, actor=insp)
        findings = tolerable_findings(case)
        for clause_id in list(findings)[:3]:
            services.finding_record(case_id=case.pk, actor=insp, clause_id=clause_id, status="met",
                                    reasoning="已调取会议纪要，核实无误。")
        return case

    @plan("sent-back")
    def _() -> Case:
        case = investigated(start("sent-back", insp, o["zjk_dc"], p["cadre2"], "水质监测数据报送延误", "environment",
                                  "监测站因设备故障延误报送数据，站长组织人工补测。", 120), insp)
        proposed(case, insp)
        services.case_send_back(case_id=case.pk, actor=comm, reason="请补充设备故障的第三方鉴定材料。")
        return case

    @plan("proposed")
    def _() -> Case:
        return proposed(investigated(start("proposed", insp, o["zjk_dc"], p["housing1"], "棚改项目先行拆迁引发信访",
                                           "petition", "为推进棚改项目，先行组织拆迁，引发群众信访，已妥善化解。",
                                           150), insp, 3), insp)

    @plan("proposed-consulted")
    def _() -> Case:
        case = proposed(investigated(start("proposed-consulted", insp, o["zjk_dc"], p["cadre"], "危废转移审批超时限",
                                           "environment", "因系统故障导致危废转移审批超时，已手工补批。", 200), insp, 1), insp)
        services.consultation_reply(case_id=case.pk, actor=orgd, opinion="agree", comment="同意纪委意见。")
        return case

    @plan("decided")
    def _() -> Case:
        case = proposed(investigated(start("decided", insp, o["zjk_dc"], p["housing2"], "招标文件条款瑕疵",
                                           "construction", "招标文件个别条款表述不严谨，引发投诉，已修订。", 240), insp), insp)
        return decided(case, comm, "exempt")

    @plan("executed-refused")
    def _() -> Case:
        case = start("executed-refused", insp, o["zjk_dc"], p["cadre"], "排污许可核发把关不严", "environment",
                     "核发排污许可时未核实企业治污设施，企业投产后超标排放。", 300)
        services.case_investigate(case_id=case.pk, actor=insp)
        findings = tolerable_findings(case)
        findings.update({c.id: "not_met" for c in registry().version_for(case.ruleset, case.conduct_date).situations()})
        _record(case, insp, findings)
        services.case_propose(case_id=case.pk, actor=insp, recommended_outcome=Outcome.REFUSED,
                              opinion="不属于所列容错情形，建议不予容错。")
        decided(case, comm, Outcome.REFUSED)
        services.case_execute(case_id=case.pk, actor=insp, delivered_on=today)
        return case

    @plan("appealed")
    def _() -> Case:
        case = start("appealed", insp, o["zjk_dc"], p["cadre2"], "监测设备采购程序问题", "funds",
                     "为尽快恢复监测，采用单一来源采购，事后被审计指出程序问题。", 330)
        investigated(case, insp, 2)
        proposed(case, insp, "exempt")
        decided(case, comm, Outcome.REFUSED, override="采购金额较大，程序瑕疵明显，不宜容错。")
        services.case_execute(case_id=case.pk, actor=insp, delivered_on=today)
        services.case_appeal(case_id=case.pk, actor=_actor(u["cadre2"], o["zjk_env"], "cadre"),
                             reasons="采购系为应对突发故障，已报经局党组同意，请求复核。")
        return case

    @plan("closed-upheld")
    def _() -> Case:
        case = start("closed-upheld", insp, o["zjk_dc"], p["cadre2"], "违规拨付项目资金", "funds",
                     "未按合同节点拨付项目资金，造成资金被挪用。", 400)
        services.case_investigate(case_id=case.pk, actor=insp)
        findings = tolerable_findings(case)
        findings[registry().version_for(case.ruleset, case.conduct_date).exclusions()[0].id] = "met"
        _record(case, insp, findings)
        services.case_propose(case_id=case.pk, actor=insp, recommended_outcome=Outcome.REFUSED, opinion="存在不予容错情形。")
        decided(case, comm, Outcome.REFUSED)
        services.case_execute(case_id=case.pk, actor=insp, delivered_on=today)
        services.case_appeal(case_id=case.pk, actor=_actor(u["cadre2"], o["zjk_env"], "cadre"),
                             reasons="资金拨付系按领导批示执行，请求复核。")
        services.appeal_review(case_id=case.pk, actor=comm, result=AppealResult.UPHELD, resolution="经复核，维持原决定。",
                               **meeting)
        return case

    @plan("withdrawn")
    def _() -> Case:
        case = start("withdrawn", insp, o["zjk_dc"], p["housing2"], "重复立案（已撤回）", "other",
                     "与另一案件系同一事项，撤回。", 30)
        services.case_withdraw(case_id=case.pk, actor=insp, reason="与另一案件重复。")
        return case

    @plan("henan-investigating")
    def _() -> Case:
        case = start("henan-investigating", insp2, o["zz_dc"], p["zz1"], "公交线网改革试点客流下降", "reform",
                     "推进公交线网优化改革试点，部分线路调整后客流下降，群众反映。", 100)
        services.case_investigate(case_id=case.pk, actor=insp2)
        return case

    @plan("henan-decided")
    def _() -> Case:
        case = investigated(start("henan-decided", insp2, o["zz_dc"], p["zz2"], "道路抢修先行施工", "emergency",
                                  "暴雨后为抢通道路先行施工，未履行招标程序。", 500), insp2, 3)
        proposed(case, insp2, "exempt")
        decided(case, comm2, "exempt")
        services.case_execute(case_id=case.pk, actor=insp2, delivered_on=today)
        return case

    @plan("hohhot-proposed")
    def _() -> Case:
        case = investigated(start("hohhot-proposed", insp3, o["hohhot_dc"], p["hh1"], "供水管网改造临时停水",
                                  "construction", "管网改造中临时停水超过公告时间，群众投诉。", 200), insp3, 1)
        return proposed(case, insp3, "lighter")

    created = 0
    for _key, fn in plans:
        try:
            fn()
        except _AlreadySeeded:
            continue
        created += 1
    return created


def _answer_consultations(case: Case) -> None:
    """The consulted departments agree, so the committee may decide (a decision waits for every reply)."""
    from accounts.models import Role
    from accounts.selectors import members_of
    from workflow.selectors import pending_consultations

    for consultation in pending_consultations(case):
        org = consultation.organisation
        officer = (members_of(org, Role.ORGDEPT) | members_of(org, Role.INSPECTOR)).first()
        if officer is None:  # a department without users here: the handler records the offline reply
            services.consultation_withdraw(
                case_id=case.pk, actor=_actor(case.handler, case.accountability_org, "inspector"),
                organisation=org.pk, reason="该部门尚未开通系统账号，已书面征求意见并附卷。")
            continue
        services.consultation_reply(case_id=case.pk, actor=_actor(officer, org, "orgdept"), opinion="agree",
                                    comment="同意问责部门的初步意见。")
