"""Input and output shapes of the case API."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from accounts.models import Organisation, Person, User
from cases.labels import choice_labels
from cases.models import (
    AccountabilityMeasure,
    Case,
    Disposition,
    Evidence,
    FindingStatus,
    MatterCategory,
    Outcome,
    overdue_at,
)
from workflow.limits import LIMITS
from workflow.models import AppealResult, ConsultationOpinion, MeetingKind, PauseReason

from .permissions import allowed_actions, sees_internal


class TextField(serializers.CharField):
    """Free text with CRLF line breaks counted as one character, as the pages and the services count them."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).replace("\r\n", "\n")


def limited(key: str, *, required: bool = True, **kwargs: Any) -> TextField:
    """A free-text input whose ``max_length`` is the limit in ``LIMITS``, refused in Chinese naming the field."""
    limit = LIMITS[key]
    messages = {"max_length": f"{limit.label}不能超过 {{max_length}} 字。"}
    if not required:
        kwargs = {"required": False, "allow_blank": True, "default": "", **kwargs}
    return TextField(max_length=limit.max_length, error_messages=messages, **kwargs)


class CaseCreateInput(serializers.Serializer):
    title = limited("case.title")
    subject = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="当事人编号（干部，或被问责单位）：问责部门启动或单位申请时必填；干部本人申请时忽略")
    accountability_org = serializers.IntegerField(help_text="问责部门编号")
    ruleset = serializers.SlugField(required=False, allow_blank=True, help_text="默认取问责部门的适用规则")
    conduct_date = serializers.DateField()
    matter_category = serializers.ChoiceField(choices=MatterCategory.choices)
    summary = limited("case.summary")
    remedial_measures = limited("case.remedial_measures", required=False)
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


class StatusField(serializers.ChoiceField):
    """A finding's status: required, no default, and an empty choice is "not chosen", not an invalid one."""

    default_error_messages = {
        "required": "请选择认定：符合、不符合或待查明。", "null": "请选择认定：符合、不符合或待查明。",
        "invalid_choice": "认定无效：{input}，应为 met（符合）、not_met（不符合）或 unknown（待查明）。",
    }

    def to_internal_value(self, data: Any) -> str:
        if data == "":
            self.fail("required")
        return super().to_internal_value(data)


class FindingInput(serializers.Serializer):
    # A clause has no finding until someone chooses one: nothing here may default to 符合.
    status = StatusField(choices=FindingStatus.choices)
    reasoning = limited("finding.reasoning", required=False)
    revision = serializers.IntegerField(required=False, allow_null=True)


class EvidenceInput(serializers.Serializer):
    file = serializers.FileField()
    description = limited("evidence.description", required=False)
    clause_id = serializers.CharField(required=False, allow_blank=True, default="")


class _Revision(serializers.Serializer):
    revision = serializers.IntegerField(required=False, allow_null=True, help_text="表单加载时的修订号，用于识别过期表单")


class InvestigateInput(_Revision):
    pass


class ProposeInput(_Revision):
    recommended_outcome = serializers.ChoiceField(choices=Outcome.choices)
    opinion = limited("proposal.opinion")
    consult = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
                                    default=list,
                                    help_text="除组织部门外另需会商的部门编号")


class ConsultReplyInput(serializers.Serializer):
    opinion = serializers.ChoiceField(choices=ConsultationOpinion.choices)
    comment = limited("consultation.comment", required=False)


class ConsultWithdrawInput(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="待回复会商请求所在部门的编号")
    reason = serializers.CharField(max_length=LIMITS["action.reason"].max_length)


class ReasonInput(_Revision):
    reason = limited("action.reason")


class _MeetingInput(_Revision):
    meeting_kind = serializers.ChoiceField(choices=MeetingKind.choices)
    meeting_date = serializers.DateField()
    members_present = serializers.IntegerField(min_value=0, max_value=1000)
    members_total = serializers.IntegerField(min_value=1, max_value=1000)
    resolution = limited("decision.resolution")
    override_reason = limited("decision.override_reason", required=False)


class DecideInput(_MeetingInput):
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class ExecuteInput(_Revision):
    delivered_on = serializers.DateField()


class CorrectDeliveryInput(_Revision):
    delivered_on = serializers.DateField()
    reason = serializers.CharField(max_length=LIMITS["action.reason"].max_length)


class AccountabilityInput(_Revision):
    measure = serializers.ChoiceField(choices=AccountabilityMeasure.choices)
    measured_on = serializers.DateField(required=False, allow_null=True, help_text="问责或组织提醒的日期")


class AppealInput(serializers.Serializer):
    reasons = limited("appeal.reasons")


class ReviewAppealInput(_MeetingInput):
    result = serializers.ChoiceField(choices=AppealResult.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_blank=True, default="")


class ReassignInput(_Revision):
    handler = serializers.CharField(help_text="新承办人的用户名或编号")
    reason = limited("action.reason")

    def validate_handler(self, value: str) -> User:
        user = User.objects.filter(username=value).first()
        if user is None and value.isascii() and value.isdecimal() and len(value) < 19:
            user = User.objects.filter(pk=int(value)).first()
        if user is None:
            raise serializers.ValidationError("用户不存在。")
        return user


class PersonOutput(serializers.Serializer):
    """The party a case is about: a cadre, or a unit held accountable as a unit."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="cadre（干部）| unit（被问责单位）")
    name = serializers.CharField()
    unit = serializers.CharField(source="unit.name")
    position = serializers.CharField()


class OrgRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseOutput(serializers.Serializer):
    """A case as listed: the response and its published schema are this one class."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="案件编号，如 容案2026-00017")
    title = serializers.CharField()
    subject = PersonOutput()
    accountability_org = OrgRefOutput()
    handler = serializers.CharField(source="handler.username", allow_null=True, help_text="承办人用户名")
    ruleset = serializers.CharField()
    conduct_date = serializers.DateField()
    matter_category = serializers.CharField()
    origin = serializers.CharField()
    applicant_unit = OrgRefOutput(allow_null=True, help_text="代为申请或自行申请的单位；否则为 null")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    outcome = serializers.SerializerMethodField()
    outcome_label = serializers.SerializerMethodField()
    deadline = serializers.DateField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    revision = serializers.IntegerField()

    def get_outcome(self, case: Case) -> str | None:
        return case.outcome or None

    def get_outcome_label(self, case: Case) -> str | None:
        return case.get_outcome_display() if case.outcome else None

    def get_overdue(self, case: Case) -> bool:
        return case.is_overdue()

    def to_representation(self, case: Case) -> dict[str, Any]:
        """The declared fields' output, built directly. DRF's generic path deep-copies every declared field
        for each serializer and walks each attribute through its checks: about a quarter of the CPU of a
        50-row ``GET /api/cases/``. A test holds this equal to the generic output, field for field."""
        return _case_row_output(_case_row(case), self._today)

    @cached_property
    def _today(self) -> dt.date:
        # Once per list (a serializer lives for one response), not once per row.
        return timezone.localdate()


def _case_row(case: Case) -> dict[str, Any]:
    """A loaded case as the values ``workflow.selectors.case_rows`` reads (``CASE_ROW_FIELDS``)."""
    subject, org, handler, unit = case.subject, case.accountability_org, case.handler, case.applicant_unit
    return {
        "id": case.pk, "reference": case.reference, "title": case.title, "ruleset": case.ruleset,
        "conduct_date": case.conduct_date, "matter_category": case.matter_category, "origin": case.origin,
        "state": case.state, "outcome": case.outcome, "deadline": case.deadline, "created_at": case.created_at,
        "revision": case.revision, "subject_id": subject.pk, "subject__kind": subject.kind,
        "subject__name": subject.name, "subject__position": subject.position, "subject__unit__name": subject.unit.name,
        "accountability_org_id": org.pk, "accountability_org__name": org.name,
        "handler__username": None if handler is None else handler.username,
        "applicant_unit_id": None if unit is None else unit.pk,
        "applicant_unit__name": None if unit is None else unit.name,
    }


def _case_row_output(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """``CaseOutput``'s output for one list row read as values."""
    outcome = row["outcome"]
    return {
        "id": row["id"],
        "reference": _text(row["reference"]),
        "title": _text(row["title"]),
        "subject": {"id": row["subject_id"], "kind": _text(row["subject__kind"]), "name": _text(row["subject__name"]),
                    "unit": _text(row["subject__unit__name"]), "position": _text(row["subject__position"])},
        "accountability_org": {"id": row["accountability_org_id"], "name": _text(row["accountability_org__name"])},
        "handler": _text(row["handler__username"]),
        "ruleset": _text(row["ruleset"]),
        "conduct_date": _DATE.to_representation(row["conduct_date"]),
        "matter_category": _text(row["matter_category"]),
        "origin": _text(row["origin"]),
        "applicant_unit": (None if row["applicant_unit_id"] is None
                           else {"id": row["applicant_unit_id"], "name": _text(row["applicant_unit__name"])}),
        "state": _text(row["state"]),
        "state_label": _text(_label("state", row["state"])),
        "outcome": outcome or None,
        "outcome_label": _label("outcome", outcome) if outcome else None,
        "deadline": _DATE.to_representation(row["deadline"]),
        "overdue": overdue_at(row["state"], row["deadline"], today),
        "created_at": _DATETIME.to_representation(row["created_at"]),
        "revision": None if row["revision"] is None else int(row["revision"]),
    }


def case_rows_output(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``CaseOutput(many=True)``'s output for rows read by ``workflow.selectors.case_rows``."""
    today = timezone.localdate()
    return [_case_row_output(row, today) for row in rows]


def _label(field: str, value: str) -> str:
    """``get_<field>_display()`` for a value read without its case."""
    return str(choice_labels(Case._meta.get_field(field)).get(value, value))


_DATE = serializers.DateField()
_DATETIME = serializers.DateTimeField()


def _text(value: Any) -> str | None:
    """What a ``CharField`` outputs: the text, or None for a missing value."""
    return None if value is None else str(value)


class PauseOutput(serializers.Serializer):
    """One time the stage clock stood still (``CasePause``)."""

    reason = serializers.ChoiceField(choices=PauseReason.choices,
                                     help_text="consultation（等待会商意见）| material（等待当事人补充材料）")
    reason_label = serializers.CharField(source="get_reason_display")
    stage = serializers.CharField(help_text="暂停时所在环节（案件状态）")
    note = serializers.CharField(help_text="要求补充的材料等说明；可为空")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="恢复计算的时间；仍在暂停中为 null")
    extended_days = serializers.IntegerField(
        allow_null=True, help_text="结束后环节期限顺延的天数（按工作日计算的辖区为工作日）；仍在暂停中为 null")


class ClockOutput(serializers.Serializer):
    """The stage clock as the case page shows it to the handling side: its pauses and whether it stands still."""

    paused = serializers.BooleanField(help_text="当前是否处于期限暂停中")
    extended_days = serializers.IntegerField(help_text="本环节期限因已结束的暂停共顺延的天数")
    pauses = PauseOutput(many=True)

    def get_attribute(self, case: Case) -> dict[str, Any]:
        # Internal only, like the case page: the case's parties get no ``clock`` key at all.
        if not sees_internal(self.context["user"], case):
            raise serializers.SkipField
        from workflow.services.reminders import case_deadline_info

        return case_deadline_info(case)


class CaseDetailOutput(CaseOutput):
    """One case with what the requesting user may do next (``context["user"]``)."""

    summary = serializers.CharField()
    remedial_measures = serializers.CharField()
    claimed_situations = serializers.ListField(child=serializers.CharField())
    loss_amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    disposition = serializers.SerializerMethodField()
    delivered_on = serializers.DateField(allow_null=True)
    appeal_deadline = serializers.DateField(allow_null=True)
    allowed_actions = serializers.SerializerMethodField()
    sent_back_reason = serializers.CharField(
        allow_null=True, required=False,
        help_text="退回补充调查的理由；仅向办案、决定和会商人员返回，当事人看不到此字段",
    )
    clock = ClockOutput(
        source="*", required=False,
        help_text="办理期限的暂停记录（会商、补充材料）与当前是否暂停；仅向办案、决定和会商人员返回，"
                  "当事人（干部、被问责单位）看不到此字段",
    )

    def get_disposition(self, case: Case) -> str | None:
        return case.disposition or None

    def get_allowed_actions(self, case: Case) -> list[str]:
        return allowed_actions(self.context["user"], case)

    def to_representation(self, case: Case) -> dict[str, Any]:
        # One case: DRF's generic path over every declared field, the list's among them.
        data = serializers.Serializer.to_representation(self, case)
        if sees_internal(self.context["user"], case):
            data["sent_back_reason"] = case.sent_back_reason or None
        else:
            data.pop("sent_back_reason", None)
        return data


def case_output(case: Case, user: User, *, detail: bool = False) -> dict[str, Any]:
    """The JSON of a case for this user (list shape, or detail with allowed actions)."""
    serializer = CaseDetailOutput if detail else CaseOutput
    return serializer(case, context={"user": user}).data


class EvidenceOutput(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "original_name", "description", "clause_id", "content_type", "size", "sha256", "uploaded_at"]


class HistoryOutput(serializers.Serializer):
    """One history entry. Officials get the whole hash-chained entry; the case's parties get the steps
    only (the fields marked optional are left out for them)."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor_name = serializers.CharField()
    via = serializers.CharField()
    role = serializers.CharField(required=False)
    organisation = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    changes = serializers.JSONField(required=False)
    ip = serializers.IPAddressField(required=False, allow_null=True)
    prev_hash = serializers.CharField(required=False)
    hash = serializers.CharField(required=False)

    def to_representation(self, entry: Any) -> dict[str, Any]:
        data = super().to_representation(entry)
        if isinstance(entry, dict):  # a party's view: only the public fields were read
            return {k: v for k, v in data.items() if k in entry}
        return data