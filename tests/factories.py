"""Factories: a test builds only the organisations, people and cases it needs (not the demo world).

Organisations, users, memberships and persons are plain rows. Cases and what hangs off them
(findings, evidence, statements, proposals, decisions) are made only through the real services, so
a factory can never produce a case the procedure could not reach: ``case_in_state(CaseState.DECIDED)``
starts, investigates, records findings, proposes and decides, exactly as the pages would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Membership, Organisation, OrgKind, OrgLevel, PartyKind, Person, Role, User
from accounts.selectors import case_authority, members_of
from cases.models import Case, CaseState, Evidence, Finding, Outcome, Statement
from rules.loader import registry
from workflow import services
from workflow.history import Actor

DEFAULT_JURISDICTION = "zhangjiakou"
MEETING = {"meeting_kind": "standing", "members_present": 9, "members_total": 11}

# --- organisations -------------------------------------------------------------------------------


def _parent_value(org: Any, attr: str, default: str) -> str:
    return getattr(org.parent, attr) if org.parent is not None else default


class OrganisationFactory(DjangoModelFactory):
    """A unit (单位) at city level with no parent; the subclasses below name the other kinds."""

    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = OrgKind.UNIT
    level = factory.LazyAttribute(lambda o: _parent_value(o, "level", OrgLevel.CITY))
    jurisdiction = factory.LazyAttribute(lambda o: _parent_value(o, "jurisdiction", DEFAULT_JURISDICTION))
    parent = None


class CommitteeFactory(OrganisationFactory):
    """A party committee with its own discipline commission and organisation department.

    ``CommitteeFactory(organs=False)`` leaves the organs out; ``CommitteeFactory(parent=upper)``
    puts it one level below another committee (its organs then receive the filings).
    """

    name = factory.Sequence(lambda n: f"中共测试{n}市委")
    short_name = factory.Sequence(lambda n: f"测{n}")
    kind = OrgKind.COMMITTEE
    level = OrgLevel.CITY
    jurisdiction = factory.LazyAttribute(lambda o: _parent_value(o, "jurisdiction", DEFAULT_JURISDICTION))

    @factory.post_generation
    def organs(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        DisciplineFactory(parent=self)
        OrgDeptFactory(parent=self)


class _OrganFactory(OrganisationFactory):
    parent = factory.SubFactory(CommitteeFactory, organs=False)
    short_name = factory.Sequence(lambda n: f"测组{n}")


class DisciplineFactory(_OrganFactory):
    name = factory.Sequence(lambda n: f"测试{n}纪委监委")
    short_name = factory.Sequence(lambda n: f"测纪{n}")
    kind = OrgKind.DISCIPLINE


class OrgDeptFactory(_OrganFactory):
    name = factory.Sequence(lambda n: f"中共测试{n}组织部")
    kind = OrgKind.ORGDEPT


class FunctionalFactory(_OrganFactory):
    name = factory.Sequence(lambda n: f"测试{n}审计局")
    kind = OrgKind.FUNCTIONAL


class UnitFactory(OrganisationFactory):
    """A unit under a fresh committee that has its discipline commission and organisation department."""

    name = factory.Sequence(lambda n: f"测试{n}生态环境局")
    kind = OrgKind.UNIT
    parent = factory.SubFactory(CommitteeFactory)


def organ(committee: Organisation, kind: str) -> Organisation:
    """The committee's discipline commission or organisation department (as the selectors find it)."""
    found = committee.children.filter(kind=kind).order_by("id").first()
    assert found is not None, f"{committee} has no organ of kind {kind}"
    return found


# --- users and roles -----------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.django.Password("test-pass")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(UnitFactory)
    role = Role.CADRE


def member(organisation: Organisation, role: str, **user_fields: Any) -> User:
    """A new user holding one role in one organisation."""
    return MembershipFactory(organisation=organisation, role=role, user=UserFactory(**user_fields)).user


def inspector(discipline: Organisation, **user_fields: Any) -> User:
    return member(discipline, Role.INSPECTOR, **user_fields)


def committee_member(committee: Organisation, **user_fields: Any) -> User:
    return member(committee, Role.COMMITTEE, **user_fields)


def orgdept_officer(orgdept: Organisation, **user_fields: Any) -> User:
    return member(orgdept, Role.ORGDEPT, **user_fields)


def unit_officer(unit: Organisation, **user_fields: Any) -> User:
    return member(unit, Role.UNIT, **user_fields)


def actor(user: User, *, via: str = "test") -> Actor:
    return Actor(user=user, role="test", organisation="", via=via)


# --- persons (parties) ---------------------------------------------------------------------------


class PersonFactory(DjangoModelFactory):
    """A cadre (干部) without a login; ``PersonFactory(with_login=True)`` gives them one."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    kind = PartyKind.CADRE
    name = factory.Sequence(lambda n: f"干部{n}")
    unit = factory.SubFactory(UnitFactory)
    position = "科长"
    rank = "四级调研员"
    user = None

    class Params:
        with_login = factory.Trait(
            user=factory.SubFactory(UserFactory, full_name=factory.SelfAttribute("..name")),
        )

    @factory.post_generation
    def membership(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        # A cadre with a login holds the cadre role in their unit, as the demo logins do.
        if create and self.user_id is not None:
            Membership.objects.get_or_create(user=self.user, organisation=self.unit, role=Role.CADRE)


class UnitPartyFactory(PersonFactory):
    """A unit held accountable as a unit (被问责单位); its officers act for it."""

    kind = PartyKind.UNIT
    name = factory.LazyAttribute(lambda o: o.unit.name)
    position = ""
    rank = ""


# --- cases, driven through the services ----------------------------------------------------------


def handler_of(case: Case) -> User:
    """The inspector handling the case (who started it, or who took it up)."""
    case.refresh_from_db(fields=["handler"])
    if case.handler is not None:
        return case.handler
    return members_of(case.accountability_org, Role.INSPECTOR).order_by("id").first() or inspector(
        case.accountability_org
    )


def deciding_member(case: Case) -> User:
    """A member of the committee with management authority who took no part in the investigation."""
    committee = case_authority(case.subject).committee
    took_part = {case.handler_id, *case.findings.values_list("recorded_by", flat=True),
                 *case.proposals.values_list("proposed_by", flat=True),
                 *case.recusals.values_list("member", flat=True)}
    existing = members_of(committee, "committee").exclude(pk__in=[p for p in took_part if p]).order_by("id").first()
    return existing or committee_member(committee)


def findings_for(case: Case, *, verdict: str = "tolerable") -> dict[str, str]:
    """Findings that make the rule engine answer ``tolerable``, ``refused`` (no situation) or
    ``excluded`` (a situation holds but so does an exclusion)."""
    version = registry().version_for(case.ruleset, case.conduct_date)
    findings = {c.id: "met" for c in version.prerequisites()}
    findings.update({c.id: "not_met" for c in version.exclusions()})
    situations = version.situations()
    if verdict == "refused":
        findings.update({s.id: "not_met" for s in situations})
    else:
        findings[situations[0].id] = "met"
        findings.update({r.id: "met" for r in version.requirements_for(situations[0].id)})
    if verdict == "excluded":
        findings[version.exclusions()[0].id] = "met"
    return findings


class CaseFactory(DjangoModelFactory):
    """A started case (已启动), opened by an inspector of the subject's discipline commission.

    Built with ``services.case_create``; pass ``created_by`` (a user) to start it as someone else,
    e.g. the cadre applying for themselves or a unit's officer applying for a cadre.
    """

    class Meta:
        model = Case

    subject = factory.SubFactory(PersonFactory)
    accountability_org = factory.LazyAttribute(lambda o: case_authority(o.subject).discipline)
    created_by = factory.LazyAttribute(lambda o: inspector(o.accountability_org))
    title = factory.Sequence(lambda n: f"环保督察中先行查封企业被问责{n}")
    conduct_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=40))
    matter_category = "environment"
    summary = "督察期间对偷排企业先行查封，审批手续后补。"

    @classmethod
    def _create(cls, model_class: type[Case], *args: Any, created_by: User, **kwargs: Any) -> Case:
        return services.case_create(actor=actor(created_by), **kwargs)


def answer_consultations(case: Case) -> None:
    """Every consulted department agrees (a decision waits for every reply)."""
    from workflow.selectors import pending_consultations

    for consultation in pending_consultations(case):
        officer = orgdept_officer(consultation.organisation)
        services.consultation_reply(case_id=case.pk, actor=actor(officer), opinion="agree", comment="同意。")


def case_in_state(
    state: str,
    *,
    outcome: str | None = None,
    verdict: str | None = None,
    closed_via: str = "appeal",
    answered: bool = True,
    **case_fields: Any,
) -> Case:
    """A case in ``state``, reached only through the services the pages call.

    ``outcome`` is the committee's decision (default: exempt; refused for appealed/closed);
    ``verdict`` the findings recorded (default: matching the outcome). An appealed or closed case
    needs a refused decision and a subject who can appeal: by default a cadre with a login.
    ``closed_via="appeal"`` closes by an upheld appeal; ``"expiry"`` by the appeal window passing.
    ``answered=False`` leaves a proposed case's consultation requests awaiting their reply.
    """
    if state not in CaseState.values:
        raise ValueError(f"unknown state {state!r}")
    needs_appeal = state == CaseState.APPEALED or (state == CaseState.CLOSED and closed_via == "appeal")
    if needs_appeal:
        if outcome not in (None, Outcome.REFUSED):
            raise ValueError("only a refusal can be appealed")
        outcome = Outcome.REFUSED
        case_fields.setdefault("subject", PersonFactory(with_login=True))
    outcome = outcome or Outcome.EXEMPT
    verdict = verdict or ("refused" if outcome == Outcome.REFUSED else "tolerable")

    case = CaseFactory(**case_fields)
    if state == CaseState.STARTED:
        return _fresh(case)
    if state == CaseState.WITHDRAWN:
        services.case_withdraw(case_id=case.pk, actor=actor(handler_of(case)), reason="与另一案件重复。")
        return _fresh(case)
    handler = actor(handler_of(case))
    services.case_investigate(case_id=case.pk, actor=handler)
    if state == CaseState.INVESTIGATING:
        return _fresh(case)
    for clause_id, status in findings_for(case, verdict=verdict).items():
        services.finding_record(case_id=case.pk, actor=handler, clause_id=clause_id, status=status,
                                reasoning="经调查核实，相关证据材料在卷。")
    services.case_propose(case_id=case.pk, actor=handler, recommended_outcome=outcome, opinion="建议依规认定。")
    if answered:
        answer_consultations(case)
    if state == CaseState.PROPOSED:
        return _fresh(case)
    services.case_decide(case_id=case.pk, actor=actor(deciding_member(case)), outcome=outcome,
                         resolution="经集体研究，作出如下决定。", meeting_date=timezone.localdate(), **MEETING)
    if state == CaseState.DECIDED:
        return _fresh(case)
    services.case_execute(case_id=case.pk, actor=handler, delivered_on=timezone.localdate())
    if state == CaseState.EXECUTED:
        return _fresh(case)
    if state == CaseState.CLOSED and closed_via == "expiry":
        case = _fresh(case)
        services.cases_close_expired(today=case.appeal_deadline + dt.timedelta(days=1))
        return _fresh(case)
    services.case_appeal(case_id=case.pk, actor=actor(appellant_of(case)), reasons="请求复核。")
    if state == CaseState.APPEALED:
        return _fresh(case)
    services.appeal_review(case_id=case.pk, actor=actor(deciding_member(case)), result="upheld",
                           resolution="经复核，维持原决定。", meeting_date=timezone.localdate(), **MEETING)
    return _fresh(case)


def appellant_of(case: Case) -> User:
    """Who may appeal: the cadre's login, or an officer of the unit held accountable."""
    if case.subject.user is not None:
        return case.subject.user
    if case.subject.is_unit:
        return members_of(case.subject.unit, Role.UNIT).order_by("id").first() or unit_officer(case.subject.unit)
    raise ValueError("the subject has no login: build it with PersonFactory(with_login=True)")


def _fresh(case: Case) -> Case:
    return Case.objects.select_related("subject__unit", "accountability_org", "handler").get(pk=case.pk)


# --- what hangs off a case, through the services -------------------------------------------------


class FindingFactory(DjangoModelFactory):
    """A finding on an investigating case, recorded by its handler through ``services.finding_record``."""

    class Meta:
        model = Finding

    case = factory.LazyFunction(lambda: case_in_state(CaseState.INVESTIGATING))
    clause_id = factory.LazyAttribute(
        lambda o: registry().version_for(o.case.ruleset, o.case.conduct_date).prerequisites()[0].id
    )
    status = "met"
    reasoning = "已调取会议纪要，核实无误。"
    recorded_by = factory.LazyAttribute(lambda o: handler_of(o.case))

    @classmethod
    def _create(cls, model_class: type[Finding], *args: Any, case: Case, recorded_by: User, **kwargs: Any) -> Finding:
        return services.finding_record(case_id=case.pk, actor=actor(recorded_by), **kwargs)


def png_upload(name: str = "现场照片.png", content: bytes = b"\x89PNG\r\n\x1a\nfake", content_type: str = "image/png"
           ) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


class EvidenceFactory(DjangoModelFactory):
    """Evidence uploaded by the handler through ``services.evidence_add`` (files go to MEDIA_ROOT:
    tests using it point ``settings.MEDIA_ROOT`` at ``tmp_path``)."""

    class Meta:
        model = Evidence

    case = factory.LazyFunction(lambda: case_in_state(CaseState.INVESTIGATING))
    uploaded_by = factory.LazyAttribute(lambda o: handler_of(o.case))
    upload = factory.LazyFunction(png_upload)
    description = "现场照片"
    clause_id = ""

    @classmethod
    def _create(cls, model_class: type[Evidence], *args: Any, case: Case, uploaded_by: User, **kwargs: Any
                ) -> Evidence:
        return services.evidence_add(case_id=case.pk, actor=actor(uploaded_by), **kwargs)


class StatementFactory(DjangoModelFactory):
    """The subject's own statement (陈述申辩) through ``services.statement_add``."""

    class Meta:
        model = Statement

    case = factory.LazyFunction(
        lambda: case_in_state(CaseState.INVESTIGATING, subject=PersonFactory(with_login=True))
    )
    author = factory.LazyAttribute(lambda o: appellant_of(o.case))
    text = "当时情况紧急，先行处置。"

    @classmethod
    def _create(cls, model_class: type[Statement], *args: Any, case: Case, author: User, **kwargs: Any
                ) -> Statement:
        return services.statement_add(case_id=case.pk, actor=actor(author), **kwargs)
