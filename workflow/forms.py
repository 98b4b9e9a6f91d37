"""Page forms: field validation in Chinese; the services still have the last word."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from accounts.models import Organisation, OrgKind, Person
from cases.models import AccountabilityMeasure, Disposition, FindingStatus, MatterCategory, Outcome
from workflow.limits import LIMITS
from workflow.models import AppealResult, ConsultationOpinion, MeetingKind


class DateInput(forms.DateInput):
    input_type = "date"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that accepts several files (Django's documented pattern)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> object:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReadOnceChoices(ModelChoiceIterator):
    """The few choices of an action form (handlers, departments) in one plain query, kept for the form.

    Django's iterator reads them through a server-side cursor (DECLARE ... WITH HOLD on PostgreSQL),
    three round trips for a handful of rows, and again each time the choices are drawn.
    """

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once; the queryset keeps the rows
            yield self.choice(obj)


class QuickSelect(forms.Select):
    """A select drawn in Python, the same markup as Django's ``select.html``: a rule set's fifty-odd
    clauses would otherwise render a template (and its attributes template) per option."""

    @staticmethod
    def _attrs(attrs: dict[str, Any]) -> str:
        # django/forms/widgets/attrs.html
        out = []
        for name, value in attrs.items():
            if value is False:
                continue
            out.append(f" {conditional_escape(name)}" if value is True
                       else f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
        return "".join(out)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = widget["optgroups"]
        if any(not isinstance(option["label"], str) for _, options, _ in groups for option in options):
            return super().render(name, value, attrs, renderer)  # labels the template would localise
        parts = [f'<select name="{conditional_escape(widget["name"])}"{self._attrs(widget["attrs"])}>']
        for group_name, options, _ in groups:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                             f'{self._attrs(option["attrs"])}>{conditional_escape(option["label"])}</option>\n')
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")  # the renderer strips the template's final newline
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class TextField(forms.CharField):
    """Free text with line breaks as the browser counts them (one character), as the services count them."""

    def to_python(self, value: Any) -> str:
        return super().to_python(value).replace("\r\n", "\n")

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if self.max_length is not None and not widget.is_hidden:
            attrs["data-max-chars"] = str(self.max_length)  # the page shows a live count against it
        return attrs


def limited(key: str, *, label: str | None = None, **kwargs: Any) -> TextField:
    """A free-text field whose ``max_length`` (and so the HTML ``maxlength``) is the limit in ``LIMITS``."""
    limit = LIMITS[key]
    label = label or limit.label
    messages = {"max_length": f"{label}不能超过 %(limit_value)s 字（现为 %(show_value)s 字）。"}
    return TextField(label=label, max_length=limit.max_length, error_messages=messages, **kwargs)


class CaseCreateForm(forms.Form):
    """An inspector opening a case (依职权启动)."""

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    title = limited("case.title")
    subject = forms.ModelChoiceField(label="当事干部", queryset=Person.objects.none())
    accountability_org = forms.ModelChoiceField(label="问责部门", queryset=Organisation.objects.none())
    conduct_date = forms.DateField(label="行为发生日期", widget=DateInput)
    matter_category = forms.ChoiceField(label="事项类别", choices=MatterCategory.choices)
    summary = limited("case.summary", widget=forms.Textarea)
    remedial_measures = limited("case.remedial_measures", label="已采取的补救措施", widget=forms.Textarea,
                                required=False)
    loss_amount = forms.DecimalField(label="损失金额（元）", required=False, min_value=0, decimal_places=2)
    disposition = forms.ChoiceField(label="处置形态（四种形态）", choices=[("", "（未处置）"), *Disposition.choices],
                                    required=False)

    def __init__(self, *args: object, people: object, orgs: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = people
        self.fields["accountability_org"].queryset = orgs
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)

    def clean_conduct_date(self):  # noqa: ANN201
        value = self.cleaned_data["conduct_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("行为发生日期不能晚于今天。")
        return value


class ApplicationForm(forms.Form):
    """A cadre's written application (书面申请), guided by the rule set's situations."""

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    title = limited("case.title", label="被问责事项")
    accountability_org = forms.ModelChoiceField(label="向哪个问责部门申请", queryset=Organisation.objects.none())
    conduct_date = forms.DateField(label="事情发生日期", widget=DateInput)
    matter_category = forms.ChoiceField(label="事项类别", choices=MatterCategory.choices)
    summary = limited("case.summary", label="发生了什么", widget=forms.Textarea,
                      help_text="请说明工作背景、您当时的做法和出发点、造成的后果。")
    claimed_situations = forms.MultipleChoiceField(
        label="您认为适用的容错情形", required=False, widget=forms.CheckboxSelectMultiple
    )
    remedial_measures = limited("case.remedial_measures", label="已采取的补救措施", widget=forms.Textarea,
                                required=False)
    attachments = MultipleFileField(label="附件（可多选）", required=False)

    def __init__(self, *args: object, orgs: object, situations: list[tuple[str, str]], people: object = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accountability_org"].queryset = orgs
        self.fields["claimed_situations"].choices = situations
        if people is not None:
            # A unit applying for one of its cadres (所在单位提出书面申请) says for whom, first.
            self.fields["subject"] = forms.ModelChoiceField(
                label="为哪位干部申请", queryset=people, empty_label="请选择本单位干部（单位被问责时选本单位）",
                help_text="单位本身被问责时，选择列表中标有“（单位）”的本单位。",
                error_messages={"required": "请选择为哪位干部申请。",
                                "invalid_choice": "该干部不在本单位，请重新选择。"})
            self.order_fields(["submission_key", "subject"])
            self.fields["summary"].help_text = "请说明工作背景、该干部当时的做法和出发点、造成的后果。"
            self.fields["claimed_situations"].label = "本单位认为适用的容错情形"
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)

    def clean_conduct_date(self):  # noqa: ANN201
        value = self.cleaned_data["conduct_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("日期不能晚于今天。")
        return value


class FindingForm(forms.Form):
    # No status is preselected: a clause has no finding until someone chooses one.
    status = forms.ChoiceField(
        label="认定", choices=[("", "请选择"), *FindingStatus.choices],
        error_messages={"required": "请选择认定：符合、不符合或待查明。",
                        "invalid_choice": "认定无效，应为符合、不符合或待查明。"},
    )
    reasoning = limited("finding.reasoning", label="理由", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label="文件")
    description = limited("evidence.description", label="说明", required=False)
    clause_id = forms.ChoiceField(label="关联条款", required=False, widget=QuickSelect)

    def __init__(self, *args: object, clauses: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clause_id"].choices = [("", "（不关联）"), *clauses]


class StatementForm(forms.Form):
    text = limited("statement.text", widget=forms.Textarea)


class ParticipantForm(forms.Form):
    name = limited("participant.name")
    kind = forms.ChoiceField(label="身份", choices=[
        ("npc_deputy", "人大代表"), ("cppcc_member", "政协委员"), ("expert", "专家学者"),
        ("third_party", "第三方社会组织"), ("service_object", "服务对象"),
    ])
    affiliation = limited("participant.affiliation", required=False)
    opinion = limited("participant.opinion", label="意见", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class _RevisionForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class InvestigateForm(_RevisionForm):
    pass


class ProposeForm(_RevisionForm):
    recommended_outcome = forms.ChoiceField(label="建议结论", choices=Outcome.choices)
    opinion = limited("proposal.opinion", widget=forms.Textarea)
    consult = forms.ModelMultipleChoiceField(
        label="另需会商的职能部门", queryset=Organisation.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text="组织部门自动参与会商。",
    )

    def __init__(self, *args: object, consult_orgs: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consult"].iterator = ReadOnceChoices
        if consult_orgs is not None:
            self.fields["consult"].queryset = consult_orgs
        else:
            self.fields["consult"].queryset = Organisation.objects.filter(kind=OrgKind.FUNCTIONAL)


class ConsultReplyForm(forms.Form):
    opinion = forms.ChoiceField(label="会商意见", choices=ConsultationOpinion.choices, widget=forms.RadioSelect)
    comment = limited("consultation.comment", label="说明", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ConsultWithdrawForm(forms.Form):
    """The handler withdraws a consultation request that will not be answered."""

    organisation = forms.ModelChoiceField(label="撤回哪个部门的会商请求", queryset=Organisation.objects.none(),
                                          empty_label="请选择部门")
    reason = forms.CharField(label="撤回理由", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=LIMITS["action.reason"].max_length)

    def __init__(self, *args: object, pending_orgs: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].iterator = ReadOnceChoices
        self.fields["organisation"].queryset = pending_orgs


class ReasonForm(_RevisionForm):
    reason = limited("action.reason", widget=forms.Textarea(attrs={"rows": 3}))


class _MeetingForm(_RevisionForm):
    meeting_kind = forms.ChoiceField(label="会议形式", choices=MeetingKind.choices)
    meeting_date = forms.DateField(label="会议日期", widget=DateInput)
    members_present = forms.IntegerField(label="到会人数", min_value=0, max_value=1000)
    members_total = forms.IntegerField(label="应到人数", min_value=1, max_value=1000)
    resolution = limited("decision.resolution", widget=forms.Textarea)
    override_reason = limited(
        "decision.override_reason", widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text="所选结论不在规则评估给出的可选结论之内时必填。",
    )


class DecideForm(_MeetingForm):
    outcome = forms.ChoiceField(label="结论", choices=Outcome.choices)
    field_order = ["outcome", "meeting_kind", "meeting_date", "members_present", "members_total", "resolution",
                   "override_reason"]


class ReviewAppealForm(_MeetingForm):
    result = forms.ChoiceField(label="复核结果", choices=AppealResult.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label="撤销后的新结论", choices=[("", "—"), *Outcome.choices[:3]], required=False)
    field_order = ["result", "outcome", "meeting_kind", "meeting_date", "members_present", "members_total",
                   "resolution", "override_reason"]


class ExecuteForm(_RevisionForm):
    delivered_on = forms.DateField(label="书面反馈送达日期", widget=DateInput)


class CorrectDeliveryForm(_RevisionForm):
    delivered_on = forms.DateField(label="更正后的送达日期", widget=DateInput)
    reason = limited("action.reason", label="更正理由", widget=forms.Textarea(attrs={"rows": 2}))


class AccountabilityForm(_RevisionForm):
    measure = forms.ChoiceField(label="问责或组织提醒情况", choices=AccountabilityMeasure.choices)
    measured_on = forms.DateField(label="问责或组织提醒日期", widget=DateInput, required=False,
                                  help_text="选择“未问责、未组织提醒”时不填。")


class AppealForm(forms.Form):
    reasons = limited("appeal.reasons", widget=forms.Textarea)


class ReassignForm(_RevisionForm):
    handler = forms.ModelChoiceField(label="新承办人", queryset=None, widget=QuickSelect)  # type: ignore[arg-type]
    reason = limited("action.reason", label="转交理由", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, handlers: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handler"].iterator = ReadOnceChoices
        self.fields["handler"].queryset = handlers
        self.fields["handler"].label_from_instance = lambda u: u.display_name()
