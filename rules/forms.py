"""The side-by-side comparison form: common questions, facts and optional clause findings."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from rules.definitions import DISPOSITIONS
from rules.registry import registry

ANSWER_CHOICES = [("", "不明"), ("yes", "是"), ("no", "否")]
DEFAULT_RULESETS = ["zhangjiakou", "henan", "hohhot"]


class CompareForm(forms.Form):
    rulesets = forms.MultipleChoiceField(label="规则集", widget=forms.CheckboxSelectMultiple)
    conduct_date = forms.DateField(label="行为发生日期", widget=forms.DateInput(attrs={"type": "date"}))
    decision_date = forms.DateField(
        label="决定日期（可选，用于从旧兼从轻）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    loss_amount = forms.DecimalField(
        label="损失金额（元，可选）", required=False, min_value=0, decimal_places=2
    )
    disposition = forms.ChoiceField(
        label="“四种形态”处理方式", required=False, choices=[("", "未记录"), *DISPOSITIONS.items()]
    )
    findings = forms.CharField(
        label="逐条认定（JSON，可选）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": '{"zhangjiakou.S9": "met"}'}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reg = registry()
        self.fields["rulesets"].choices = [(f.id, f"{f.title}（{f.id}）") for f in reg.families()]
        self.fields["rulesets"].initial = DEFAULT_RULESETS
        self.question_fields = []
        for question in reg.questions.values():
            name = f"q_{question.id}"
            self.fields[name] = forms.ChoiceField(
                label=question.text,
                required=False,
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                help_text=question.note,
            )
            self.question_fields.append(name)

    def clean_findings(self) -> dict[str, Any]:
        raw = self.cleaned_data.get("findings") or ""
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"不是有效的 JSON：{exc.msg}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("应为对象：条款编号 → met / not_met / unknown")
        return value

    def answers(self) -> dict[str, str]:
        return {
            name[2:]: self.cleaned_data[name] for name in self.question_fields if self.cleaned_data.get(name)
        }

    def facts(self) -> dict[str, Any] | None:
        facts: dict[str, Any] = {}
        if self.cleaned_data.get("loss_amount") is not None:
            facts["loss_amount"] = float(self.cleaned_data["loss_amount"])
        if self.cleaned_data.get("disposition"):
            facts["disposition"] = self.cleaned_data["disposition"]
        return facts or None

    def question_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.question_fields]
