"""Every action of the procedure, declared once.

For each action: its label, the states it is open in, where it leads, who may take it (a rule
composed of the named predicates in ``workflow.permissions``), further conditions, the page form,
the API input serializer, the service it calls, and whether a half-filled form may be kept as a
draft. Pages, the REST API, the admin and the tasks all read this table; ``action_check`` is the
one guard that applies it, and ``allowed_actions`` draws the buttons from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Organisation, OrgKind, Role
from accounts.selectors import case_authority, members_of
from cases.models import Case, Outcome
from cases.models import CaseState as S
from rules.dates import cn_date

from . import forms as f
from . import serializers as s
from . import services
from .errors import InvalidInput
from .history import Actor
from .permissions import (
    Access,
    Rule,
    has_pending_consultation,
    has_recused,
    is_accountability_inspector,
    is_applying_unit,
    is_deciding_member,
    is_subject,
    took_part,
)
from .permissions import applied_for_themselves as applied_personally
from .selectors import pending_consultations
from .services import reminders

Call = Callable[[Case, Actor, dict[str, Any]], Any]


@dataclass(frozen=True)
class ActionSpec:
    """One action: where it is open, who may take it, and what each door needs to run it."""

    label: str
    sources: frozenset[str]
    target: str | None  # None: the state stays, or ``target_note`` says how the payload decides
    rule: Rule
    call: Call | None = None  # None: a sub-resource with its own door (findings, evidence, statements)
    form: type[forms.Form] | None = None
    input: type[serializers.Serializer] | None = None
    drafts: bool = False
    target_note: str = ""
    conditions: tuple[Callable[[Access], str | None], ...] = ()  # each returns why not (409), or None
    form_choices: Callable[[Case], dict[str, Any]] | None = None  # querysets the form offers
    # An action that cannot be undone asks once before it is sent: what will happen, and that it is final.
    confirm: str = ""
    button: str = "btn-primary"  # how its page button looks (a withdrawal is not the primary action)

    @property
    def offered(self) -> bool:
        """Offered as a button and an API action (the rest are sub-resources with their own routes)."""
        return self.call is not None


# --- rules: who may take each action ---------------------------------------------------------------

HANDLING = Rule(is_accountability_inspector, "只有问责部门的承办人员可以执行此操作（谁问责、谁容错）。")
DECIDING = Rule(
    is_deciding_member, "只有具有干部管理权限的党委（党组）成员可以作出决定。",
    also=((~took_part, "参与调查或提出建议的人员不得参与决定（职责分离）。"),
          (~has_recused, "您已申请回避，不得参与本案决定。")),
)
COMMITTEE = Rule(is_deciding_member, "只有具有干部管理权限的党委（党组）成员可以执行此操作。")


# --- conditions beyond state and role (409) --------------------------------------------------------

def _refusal_appealable(a: Access) -> str | None:
    if a.case.outcome != Outcome.REFUSED:
        return "只有不予容错的决定可以申诉。"
    if a.case.appeal_deadline and timezone.localdate() > a.case.appeal_deadline:
        return f"申诉期限已于 {cn_date(a.case.appeal_deadline)} 届满。"
    return None


def _not_yet_recused(a: Access) -> str | None:
    return "您已申请回避。" if a.holds(has_recused) else None


def _consultations_settled(a: Access) -> str | None:
    return consultations_outstanding(a.case)


def consultations_outstanding(case: Case) -> str | None:
    """张家口 第十一条(一): 沟通会商, 商定容错纠错事宜 — no decision while a department's opinion is awaited.
    Returns why the decision must wait, or None."""
    pending = pending_consultations(case)
    if pending:
        names = "、".join(c.organisation.name for c in pending)
        return f"尚有会商意见未回复：{names}。须待其回复，或由承办人撤回会商请求并说明理由后，方可作出决定。"
    return None


def _no_material_request_open(a: Access) -> str | None:
    return "已要求补充材料，正在等待当事人提交。" if reminders.material_requested(a.case) else None


def _consultations_pending(a: Access) -> str | None:
    return None if pending_consultations(a.case) else "没有待回复的会商请求。"


# --- what each form offers ----------------------------------------------------------------------

def _handlers(case: Case) -> dict[str, QuerySet]:
    return {"handlers": members_of(case.accountability_org, Role.INSPECTOR).exclude(pk=case.handler_id)}


def _pending_orgs(case: Case) -> dict[str, QuerySet]:
    ids = [c.organisation_id for c in pending_consultations(case)]
    return {"pending_orgs": Organisation.objects.filter(pk__in=ids)}


def _consult_orgs(case: Case) -> dict[str, QuerySet]:
    authority = case_authority(case.subject)
    return {"consult_orgs": Organisation.objects.filter(pk__in=authority.acting_ids, kind=OrgKind.FUNCTIONAL)
            .exclude(pk=case.accountability_org_id)}


# --- calls: validated input to keyword arguments -----------------------------------------------

def _orgs(ids: list[Any]) -> list[Organisation]:
    wanted = [int(getattr(i, "pk", i)) for i in ids]
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=wanted)}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise InvalidInput(f"会商部门不存在：{'、'.join(missing)}", field="consult")
    return [found[i] for i in wanted]


def _meeting(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ("meeting_kind", "meeting_date", "members_present", "members_total")}


def _revision(d: dict[str, Any]) -> dict[str, Any]:
    return {"expected_revision": d.get("revision")}


PRE_DECISION = S.pre_decision()

ACTIONS: dict[str, ActionSpec] = {
    # Offered as buttons and API actions, in the order the page shows them.
    "investigate": ActionSpec(
        "开始调查", frozenset({S.STARTED}), S.INVESTIGATING, HANDLING,
        call=lambda c, a, d: services.case_investigate(case_id=c.pk, actor=a, **_revision(d)),
        form=f.InvestigateForm, input=s.InvestigateInput,
    ),
    "propose": ActionSpec(
        "提出初步建议", frozenset({S.INVESTIGATING}), S.PROPOSED, HANDLING,
        call=lambda c, a, d: services.case_propose(
            case_id=c.pk, actor=a, recommended_outcome=d.get("recommended_outcome"), opinion=d.get("opinion"),
            consult=_orgs(list(d.get("consult") or [])), **_revision(d)),
        form=f.ProposeForm, input=s.ProposeInput, drafts=True, form_choices=_consult_orgs,
    ),
    "consult_reply": ActionSpec(
        "回复会商意见", frozenset({S.PROPOSED}), None,
        Rule(has_pending_consultation, "本部门没有待回复的会商请求。"),
        call=lambda c, a, d: services.consultation_reply(
            case_id=c.pk, actor=a, opinion=d.get("opinion"), comment=d.get("comment", "")),
        form=f.ConsultReplyForm, input=s.ConsultReplyInput,
    ),
    "consult_withdraw": ActionSpec(
        "撤回会商请求", frozenset({S.PROPOSED}), None, HANDLING,
        call=lambda c, a, d: services.consultation_withdraw(
            case_id=c.pk, actor=a, organisation=getattr(d.get("organisation"), "pk", d.get("organisation")),
            reason=d.get("reason")),
        form=f.ConsultWithdrawForm, input=s.ConsultWithdrawInput, form_choices=_pending_orgs,
        conditions=(_consultations_pending,),
    ),
    "request_material": ActionSpec(
        # The clock stops until the cadre or unit submits a statement or material (workflow.services.reminders).
        "要求补充材料", frozenset({S.INVESTIGATING}), None, HANDLING,
        call=lambda c, a, d: reminders.material_request(
            case_id=c.pk, actor=a, reason=d.get("reason"), **_revision(d)),
        form=f.ReasonForm, input=s.ReasonInput, conditions=(_no_material_request_open,),
    ),
    "send_back": ActionSpec(
        "退回补充调查", frozenset({S.PROPOSED}), S.INVESTIGATING, COMMITTEE,
        call=lambda c, a, d: services.case_send_back(case_id=c.pk, actor=a, reason=d.get("reason"), **_revision(d)),
        form=f.ReasonForm, input=s.ReasonInput, drafts=True,
    ),
    "recuse": ActionSpec(
        "申请回避", frozenset({S.PROPOSED, S.APPEALED}), None, COMMITTEE,
        call=lambda c, a, d: services.case_recuse(case_id=c.pk, actor=a, reason=d.get("reason")),
        form=f.ReasonForm, input=s.ReasonInput, conditions=(_not_yet_recused,),
    ),
    "decide": ActionSpec(
        "集体研究决定", frozenset({S.PROPOSED}), S.DECIDED, DECIDING,
        call=lambda c, a, d: services.case_decide(
            case_id=c.pk, actor=a, outcome=d.get("outcome"), resolution=d.get("resolution"),
            override_reason=d.get("override_reason", ""), **_meeting(d), **_revision(d)),
        form=f.DecideForm, input=s.DecideInput, drafts=True, conditions=(_consultations_settled,),
        confirm="确认作出决定？决定将载入案件记录，生成决定文书并报备案；作出后不能修改或撤销。",
    ),
    "execute": ActionSpec(
        "执行并送达", frozenset({S.DECIDED}), S.EXECUTED, HANDLING,
        call=lambda c, a, d: services.case_execute(
            case_id=c.pk, actor=a, delivered_on=d.get("delivered_on"), **_revision(d)),
        form=f.ExecuteForm, input=s.ExecuteInput,
        confirm="确认执行并送达？将记录送达日期，并向当事干部（单位）送达书面反馈；不予容错的，申诉期限自送达之日起计算。"
                "此操作不能撤销（送达日期有误的，可以更正）。",
    ),
    "correct_delivery": ActionSpec(
        "更正送达日期", frozenset({S.EXECUTED}), None, HANDLING,
        call=lambda c, a, d: services.delivery_correct(
            case_id=c.pk, actor=a, delivered_on=d.get("delivered_on"), reason=d.get("reason"), **_revision(d)),
        form=f.CorrectDeliveryForm, input=s.CorrectDeliveryInput,
    ),
    "record_accountability": ActionSpec(
        "记录问责或组织提醒情况", frozenset({S.DECIDED, S.EXECUTED, S.APPEALED, S.CLOSED}), None, HANDLING,
        call=lambda c, a, d: services.accountability_record(
            case_id=c.pk, actor=a, measure=d.get("measure"), measured_on=d.get("measured_on"), **_revision(d)),
        form=f.AccountabilityForm, input=s.AccountabilityInput,
    ),
    "appeal": ActionSpec(
        "提出申诉", frozenset({S.EXECUTED}), S.APPEALED,
        # 对不予容错决定不服的，相关干部、单位可以提出申诉（河南 三（五））.
        Rule(is_subject | is_applying_unit, "只有当事干部本人、被问责单位或代为申请的单位可以提出申诉。"),
        call=lambda c, a, d: services.case_appeal(
            case_id=c.pk, actor=a, reasons=d.get("reasons"), attachments=d.get("attachments") or ()),
        form=f.AppealForm, input=s.AppealInput, drafts=True, conditions=(_refusal_appealable,),
        confirm="确认提出申诉？申诉理由和附件将提交党委（党组）复核；提交后不能撤回或修改。",
    ),
    "review_appeal": ActionSpec(
        "申诉复核", frozenset({S.APPEALED}), None, DECIDING,
        target_note="维持原决定：已办结；撤销原决定：已决定（按新结论执行）",
        call=lambda c, a, d: services.appeal_review(
            case_id=c.pk, actor=a, result=d.get("result"), outcome=d.get("outcome") or None,
            resolution=d.get("resolution"), override_reason=d.get("override_reason", ""),
            **_meeting(d), **_revision(d)),
        form=f.ReviewAppealForm, input=s.ReviewAppealInput, drafts=True,
        confirm="确认作出复核决定？复核结果将载入案件记录并书面告知当事干部（单位）；作出后不能修改或撤销。",
    ),
    "reassign": ActionSpec(
        "转交承办人", frozenset({*PRE_DECISION, S.DECIDED, S.EXECUTED, S.APPEALED}), None, HANDLING,
        call=lambda c, a, d: services.case_reassign(
            case_id=c.pk, actor=a, handler=d.get("handler"), reason=d.get("reason"), **_revision(d)),
        form=f.ReassignForm, input=s.ReassignInput, form_choices=_handlers,
    ),
    "withdraw": ActionSpec(
        "撤回", PRE_DECISION, S.WITHDRAWN,
        Rule(is_accountability_inspector | (is_subject & applied_personally) | is_applying_unit,
             "只有问责部门或申请人可以撤回。"),
        call=lambda c, a, d: services.case_withdraw(case_id=c.pk, actor=a, reason=d.get("reason"), **_revision(d)),
        form=f.ReasonForm, input=s.ReasonInput,
        confirm="确认撤回？撤回后本案终止办理，状态变为“已撤回”；此操作不能撤销。",
        button="btn-danger-secondary",
    ),
    # Sub-resources: guarded here, run through their own routes.
    "record_finding": ActionSpec("记录认定", frozenset({S.INVESTIGATING}), None, HANDLING),
    "add_participant": ActionSpec("邀请参与调查", frozenset({S.INVESTIGATING}), None, HANDLING),
    "add_evidence": ActionSpec(
        "上传证据材料", frozenset({S.STARTED, S.INVESTIGATING, S.EXECUTED, S.APPEALED}), None,
        Rule(is_accountability_inspector | is_subject | is_applying_unit, "您无权为此案件上传材料。"),
    ),
    "add_statement": ActionSpec(
        "提交陈述", PRE_DECISION, None, Rule(is_subject, "只有当事干部本人（或被问责单位）可以提交陈述。"),
    ),
    # Return visits (回访) after the decision: the handling department plans and records them.
    "schedule_visit": ActionSpec("安排回访", S.decided(), None, HANDLING),
    "complete_visit": ActionSpec("完成回访", S.decided(), None, HANDLING),
}

# Forms that keep drafts without being an action of their own.
DRAFT_ONLY_FORMS = frozenset({"finding", "statement"})


def drafts_kept(form: str) -> bool:
    spec = ACTIONS.get(form)
    return form in DRAFT_ONLY_FORMS or (spec is not None and spec.drafts)


def action_form(action: str, case: Case, *, data: Any = None, initial: dict[str, Any] | None = None) -> forms.Form:
    """The page form of an action, with the choices it offers for this case."""
    spec = ACTIONS[action]
    assert spec.form is not None, action  # noqa: S101 - only offered actions have forms
    kwargs = spec.form_choices(case) if spec.form_choices else {}
    return spec.form(data, initial=initial, auto_id=f"id_{action}_%s", **kwargs)


def action_run(action: str, case: Case, actor: Actor, data: dict[str, Any]) -> Any:
    """Run an offered action with validated input: the one call every door makes."""
    spec = ACTIONS[action]
    assert spec.call is not None, action  # noqa: S101 - sub-resources have their own services
    return spec.call(case, actor, data)
