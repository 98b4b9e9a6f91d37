"""Page forms of the follow-through (回访, 澄清正名, 应容未容): Chinese field checks; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from .forms import DateInput
from .models import ClarificationScope, VisitForm


def _text(label: str, max_length: int, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": f"请填写{label}。", "max_length": f"{label}不能超过 {max_length} 字。"},
    )


class VisitCompleteForm(forms.Form):
    visited_on = forms.DateField(label="回访日期", widget=DateInput,
                                 error_messages={"required": "请填写回访日期。", "invalid": "回访日期格式应为 YYYY-MM-DD。"})
    form = forms.ChoiceField(label="回访形式", choices=VisitForm.choices)
    notes = _text("回访记录", 5000, rows=4)
    cadre_state = _text("干部现实表现", 5000)


class VisitAddForm(forms.Form):
    due_on = forms.DateField(label="计划回访日期", widget=DateInput,
                             error_messages={"required": "请填写计划回访日期。", "invalid": "日期格式应为 YYYY-MM-DD。"})
    form = forms.ChoiceField(label="回访形式", choices=VisitForm.choices)


class ClarificationForm(forms.Form):
    person = forms.ModelChoiceField(label="被澄清干部", queryset=None, required=False,
                                    error_messages={"invalid_choice": "所选干部不存在，或不在您的管辖范围内。"})
    organisation = forms.TypedChoiceField(label="澄清机关（谁办理、谁澄清）", coerce=int, choices=())
    decided_on = forms.DateField(label="决定日期", widget=DateInput,
                                 error_messages={"required": "请填写决定日期。", "invalid": "日期格式应为 YYYY-MM-DD。"})
    scope = forms.ChoiceField(label="通报范围", choices=ClarificationScope.choices, widget=forms.RadioSelect)
    basis = _text("澄清依据（调查核实情况）", 5000, rows=4)
    accuser_referred_to = forms.CharField(label="诬告陷害人移送或处理机关", max_length=100, required=False)
    accuser_referred_on = forms.DateField(label="移送日期", widget=DateInput, required=False,
                                          error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"})
    accuser_outcome = _text("处理结果", 5000, required=False, rows=2)

    def __init__(self, *args: Any, people: Any, organisations: list[tuple[int, str]], fixed_person: bool,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["organisation"].choices = organisations
        if fixed_person:
            del self.fields["person"]


class FailureDismissForm(forms.Form):
    reason = _text("排除理由", 2000, rows=2)


class FailureOpenCaseForm(forms.Form):
    case = forms.CharField(label="立案案件编号", max_length=30, help_text="如 容案2026-00017",
                           error_messages={"required": "请填写立案案件编号。"})
    note = _text("说明", 2000, required=False, rows=2)
