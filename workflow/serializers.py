"""Input and output shapes of the case API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Organisation, Person, User
from cases.models import Case, Disposition, Evidence, FindingStatus, MatterCategory, Outcome
from workflow.models import AppealResult, ConsultationOpinion, HistoryEntry, MeetingKind

from .permissions import allowed_actions, sees_internal
from .selectors import is_overdue


class CaseCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    subject = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="当事人编号（干部，或被问责单位）：问责部门启动或单位申请时必填；干部本人申请时忽略")
    accountability_org = serializers.IntegerField(help_text="问责部门编号")
    ruleset = serializers.SlugField(required=False, allow_blank=True, help_text="默认取问责部门的适用规则")
    conduct_date = serializers.DateField()
    matter_category = serializers.ChoiceField(choices=MatterCategory.choices)
    summary = serializers.CharField()
    remedial_measures = serializers.CharField(required=False, allow_blank=True, default="")
    claimed_situations = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    loss_amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True,
                                           min_value=0)
    disposition = serializers.ChoiceField(choices=list(Disposition.values), required=False, allow_blank=True, default="")

    def validate_subject(self, value: int | None) -> Person | None:
        if value is None:
            return None
        person = Person.objects.filter(pk=value).select_related("unit").first()
        if person is None:
            raise serializers.ValidationError("干部不存在。")
        return person

    def validate_accountability_org(self, value: int) -> Organisation:
        org = Organisation.objects.filter(pk=value).first()
        if org is None:
            raise serializers.ValidationError("组织不存在。")
        return org


class FindingInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=FindingStatus.choices)
    reasoning = serializers.CharField(required=False, allow_blank=True, default="")
    revision = serializers.IntegerField(required=False, allow_null=True)


class EvidenceInput(serializers.Serializer):
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    clause_id = serializers.CharField(required=False, allow_blank=True, default="")


class _Revision(serializers.Serializer):
    revision = serializers.IntegerField(required=False, allow_null=True, help_text="表单加载时的修订号，用于识别过期表单")


class InvestigateInput(_Revision):
    pass


class ProposeInput(_Revision):
    recommended_outcome = serializers.ChoiceField(choices=Outcome.choices)
    opinion = serializers.CharField()
    consult = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                    help_text="除组织部门外另需会商的部门编号")


class ConsultReplyInput(serializers.Serializer):
    opinion = serializers.ChoiceField(choices=ConsultationOpinion.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInput(_Revision):
    reason = serializers.CharField()


class _MeetingInput(_Revision):
    meeting_kind = serializers.ChoiceField(choices=MeetingKind.choices)
    meeting_date = serializers.DateField()
    members_present = serializers.IntegerField(min_value=0, max_value=1000)
    members_total = serializers.IntegerField(min_value=1, max_value=1000)
    resolution = serializers.CharField()
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class DecideInput(_MeetingInput):
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class ExecuteInput(_Revision):
    delivered_on = serializers.DateField()


class AppealInput(serializers.Serializer):
    reasons = serializers.CharField()


class ReviewAppealInput(_MeetingInput):
    result = serializers.ChoiceField(choices=AppealResult.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_blank=True, default="")


class ReassignInput(_Revision):
    handler = serializers.CharField(help_text="新承办人的用户名或编号")
    reason = serializers.CharField()

    def validate_handler(self, value: str) -> User:
        user = User.objects.filter(username=value).first()
        if user is None and value.isascii() and value.isdecimal() and len(value) < 19:
            user = User.objects.filter(pk=int(value)).first()
        if user is None:
            raise serializers.ValidationError("用户不存在。")
        return user


ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "investigate": InvestigateInput,
    "propose": ProposeInput,
    "consult_reply": ConsultReplyInput,
    "send_back": ReasonInput,
    "recuse": ReasonInput,
    "decide": DecideInput,
    "execute": ExecuteInput,
    "appeal": AppealInput,
    "review_appeal": ReviewAppealInput,
    "reassign": ReassignInput,
    "withdraw": ReasonInput,
}


def _person(person: Person) -> dict[str, Any]:
    return {"id": person.pk, "kind": person.kind, "name": person.name, "unit": person.unit.name,
            "position": person.position}


def case_output(case: Case, user: User, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": case.pk,
        "reference": case.reference,
        "title": case.title,
        "subject": _person(case.subject),
        "accountability_org": {"id": case.accountability_org_id, "name": case.accountability_org.name},
        "handler": case.handler.username if case.handler else None,
        "ruleset": case.ruleset,
        "conduct_date": case.conduct_date.isoformat(),
        "matter_category": case.matter_category,
        "origin": case.origin,
        "applicant_unit": ({"id": case.applicant_unit_id, "name": case.applicant_unit.name}
                           if case.applicant_unit_id else None),
        "state": case.state,
        "state_label": case.get_state_display(),
        "outcome": case.outcome or None,
        "outcome_label": case.get_outcome_display() if case.outcome else None,
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "overdue": is_overdue(case),
        "created_at": case.created_at.isoformat(),
        "revision": case.revision,
    }
    if detail:
        data.update(
            {
                "summary": case.summary,
                "remedial_measures": case.remedial_measures,
                "claimed_situations": case.claimed_situations,
                "loss_amount": str(case.loss_amount) if case.loss_amount is not None else None,
                "disposition": case.disposition or None,
                "delivered_on": case.delivered_on.isoformat() if case.delivered_on else None,
                "appeal_deadline": case.appeal_deadline.isoformat() if case.appeal_deadline else None,
                "allowed_actions": allowed_actions(user, case),
            }
        )
        if sees_internal(user, case):
            data["sent_back_reason"] = case.sent_back_reason or None
    return data


class EvidenceOutput(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "original_name", "description", "clause_id", "content_type", "size", "sha256", "uploaded_at"]


class HistoryOutput(serializers.ModelSerializer):
    class Meta:
        model = HistoryEntry
        fields = ["id", "actor_name", "role", "organisation", "at", "action", "from_state", "to_state", "reason",
                  "changes", "ip", "via", "prev_hash", "hash"]


# Output documented for the schema (the view builds the dict with case_output).
class CaseOutputSchema(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    subject = serializers.DictField(help_text="当事人：{id, kind: cadre（干部）| unit（被问责单位）, name, unit, position}")
    accountability_org = serializers.DictField()
    applicant_unit = serializers.DictField(allow_null=True, help_text="代为申请或自行申请的单位 {id, name}；否则为 null")
    handler = serializers.CharField(allow_null=True)
    ruleset = serializers.CharField()
    conduct_date = serializers.DateField()
    matter_category = serializers.CharField()
    origin = serializers.CharField()
    state = serializers.CharField()
    outcome = serializers.CharField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    revision = serializers.IntegerField()
    allowed_actions = serializers.ListField(child=serializers.CharField())
