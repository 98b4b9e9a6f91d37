"""Who may see and do what, asked by every door: pages, API, tasks and commands.

Visibility is a query (an id outside it is simply not found: 404); an action on a visible case
is either allowed or refused with a reason (403), or not open in the current state (409).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.models import Organisation, OrgKind, PartyKind, Role, User
from accounts.selectors import committee_of, managing_committee, members_of, roles_of, subtree_ids
from cases.models import Case, CaseState

from .errors import NotAllowed, WrongState
from .transitions import CASE_ACTIONS, TRANSITIONS

_LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3}
DECIDED_STATES = (CaseState.DECIDED, CaseState.EXECUTED, CaseState.APPEALED, CaseState.CLOSED)


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
    below = Organisation.objects.filter(pk__in=subtree_ids(committee), kind=org.kind)
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


def _managed_by(org_ids: set[int], committee_ids: set[int] | None = None) -> Q:
    """Cases whose subject is managed within a set of organisations (explicit override first)."""
    explicit = committee_ids if committee_ids is not None else org_ids
    return Q(subject__managing_committee_id__in=explicit) | Q(
        subject__managing_committee__isnull=True, subject__unit_id__in=org_ids
    )


def visible_cases(user: User) -> QuerySet[Case]:
    """Every case the user may see; start every lookup here."""
    if not user.is_authenticated:
        return Case.objects.none()
    scope = scope_of(user)
    if scope.is_admin:
        return Case.objects.all()
    q = Q(pk__in=[])
    if scope.inspector_visible_org_ids:
        q |= Q(accountability_org_id__in=scope.inspector_visible_org_ids)
    if scope.committee_subtree_ids:
        q |= _managed_by(scope.committee_subtree_ids)
    if scope.orgdept_subtree_ids:
        q |= _managed_by(scope.orgdept_subtree_ids) & Q(state__in=DECIDED_STATES)
    if scope.consult_org_ids:
        from .models import Consultation

        consulted = Consultation.objects.filter(organisation_id__in=scope.consult_org_ids).values("proposal__case_id")
        q |= Q(pk__in=consulted)
    if scope.person_id is not None:
        q |= Q(subject_id=scope.person_id)
    if scope.unit_org_ids:
        # A unit sees the applications it submitted and the cases about itself as a unit held
        # accountable, never its cadres' other cases.
        q |= Q(applicant_unit_id__in=scope.unit_org_ids)
        q |= Q(subject__kind=PartyKind.UNIT, subject__unit_id__in=scope.unit_org_ids)
    return Case.objects.filter(q)


def _subject_managed_within(case: Case, org_ids: set[int]) -> bool:
    """The Python twin of ``_managed_by`` for one case already loaded."""
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
    if (scope.orgdept_subtree_ids and case.state in DECIDED_STATES
            and _subject_managed_within(case, scope.orgdept_subtree_ids)):
        return True
    if scope.consult_org_ids:
        from .models import Consultation

        return Consultation.objects.filter(
            proposal__case_id=case.pk, organisation_id__in=scope.consult_org_ids
        ).exists()
    return False


def sees_party_material(user: User, case: Case) -> bool:
    """Statements, all evidence, recusals and the clause-by-clause sources are for officials and for
    the party the case is about (the cadre, or the unit held accountable). A unit that applied for one
    of its cadres is the cadre's employer, not the party: it sees what it filed and what is sent back
    (the feedback), never the cadre's own statements or the investigation's material."""
    return sees_internal(user, case) or _is_subject(scope_of(user), case)


def sees_evaluation(user: User, case: Case) -> bool:
    """The cadre sees the clause-by-clause grounds once the decision is made."""
    return sees_internal(user, case) or (case.state in DECIDED_STATES and sees_party_material(user, case))


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
    """The cadre the case is about, or the unit that applied for them: who receives the feedback."""
    scope = scope_of(user)
    return _is_subject(scope, case) or _is_applicant_unit(scope, case)


def _is_accountability_inspector(scope: Scope, case: Case) -> bool:
    return case.accountability_org_id in scope.inspector_org_ids


def _is_deciding_member(scope: Scope, case: Case) -> bool:
    committee = managing_committee(case.subject)
    return committee is not None and committee.pk in scope.committee_ids


def _took_part_in_investigation(user: User, case: Case) -> bool:
    """Separation of duties: investigators, proposers and the handler may not vote."""
    if case.handler_id == user.pk:
        return True
    if case.findings.filter(recorded_by=user).exists():
        return True
    return case.proposals.filter(proposed_by=user).exists()


def _has_recused(user: User, case: Case) -> bool:
    return case.recusals.filter(member=user).exists()


def _pending_consultation(scope: Scope, case: Case) -> bool:
    proposal = case.proposals.order_by("-round").first()
    if proposal is None:
        return False
    return proposal.consultations.filter(organisation_id__in=scope.consult_org_ids, replied_at__isnull=True).exists()


def authority_check(user: User, action: str, case: Case) -> None:
    """Raise NotAllowed when the user's role or authority does not permit the action (state aside)."""
    scope = scope_of(user)
    s = case.state
    if action in {"investigate", "record_finding", "add_participant", "propose", "reassign", "execute"}:
        if not _is_accountability_inspector(scope, case):
            raise NotAllowed("只有问责部门的承办人员可以执行此操作（谁问责、谁容错）。")
        return
    if action == "add_evidence":
        if _is_accountability_inspector(scope, case):
            return
        if _is_subject(scope, case) and s in {CaseState.STARTED, CaseState.INVESTIGATING, CaseState.EXECUTED,
                                              CaseState.APPEALED}:
            return
        if _is_applicant_unit(scope, case) and s in {CaseState.STARTED, CaseState.INVESTIGATING,
                                                     CaseState.EXECUTED, CaseState.APPEALED}:
            return
        raise NotAllowed("您无权为此案件上传材料。")
    if action == "add_statement":
        if not _is_subject(scope, case):
            raise NotAllowed("只有当事干部本人（或被问责单位）可以提交陈述。")
        return
    if action == "withdraw":
        if _is_accountability_inspector(scope, case):
            return
        if case.applicant_unit_id is None and _is_subject(scope, case) and case.applicant_id == user.pk:
            return
        if _is_applicant_unit(scope, case):
            return
        raise NotAllowed("只有问责部门或申请人可以撤回。")
    if action == "consult_reply":
        if not _pending_consultation(scope, case):
            raise NotAllowed("本部门没有待回复的会商请求。")
        return
    if action in {"send_back", "recuse"}:
        if not _is_deciding_member(scope, case):
            raise NotAllowed("只有具有干部管理权限的党委（党组）成员可以执行此操作。")
        return
    if action in {"decide", "review_appeal"}:
        if not _is_deciding_member(scope, case):
            raise NotAllowed("只有具有干部管理权限的党委（党组）成员可以作出决定。")
        if _took_part_in_investigation(user, case):
            raise NotAllowed("参与调查或提出建议的人员不得参与决定（职责分离）。")
        if _has_recused(user, case):
            raise NotAllowed("您已申请回避，不得参与本案决定。")
        return
    if action == "appeal":
        # 对不予容错决定不服的，相关干部、单位可以提出申诉（河南 三（五））.
        if not (_is_subject(scope, case) or _is_applicant_unit(scope, case)):
            raise NotAllowed("只有当事干部本人、被问责单位或代为申请的单位可以提出申诉。")
        return
    if action == "close":
        if not scope.is_admin:
            raise NotAllowed("办结由系统在申诉期满后自动完成。")
        return
    raise NotAllowed(f"未知操作：{action}")


def action_check(user: User, action: str, case: Case) -> None:
    """The one guard: state first (409), then role and authority (403)."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise WrongState(f"未知操作：{action}")
    if case.state not in transition.sources:
        raise WrongState(f"案件当前状态为“{case.get_state_display()}”，不能“{transition.label}”。")
    authority_check(user, action, case)
    if action == "appeal":
        from django.utils import timezone

        if case.outcome != "refused":
            raise WrongState("只有不予容错的决定可以申诉。")
        if case.appeal_deadline and timezone.localdate() > case.appeal_deadline:
            raise WrongState(f"申诉期限已于 {case.appeal_deadline:%Y年%m月%d日} 届满。")
    if action == "recuse" and _has_recused(user, case):
        raise WrongState("您已申请回避。")


def allowed_actions(user: User, case: Case) -> list[str]:
    """The actions this user can take on this case now; the UI's buttons come from here."""
    allowed = []
    for action in CASE_ACTIONS:
        try:
            action_check(user, action, case)
        except (NotAllowed, WrongState):
            continue
        allowed.append(action)
    return allowed


def can(user: User, action: str, case: Case) -> bool:
    try:
        action_check(user, action, case)
    except (NotAllowed, WrongState):
        return False
    return True
