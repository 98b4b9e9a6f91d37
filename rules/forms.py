"""The side-by-side comparison form: common questions, facts and optional clause findings."""

from __future__ import annotations

from typing import Any

from django import forms

from rules.definitions import DISPOSITIONS, KIND_LABELS
from rules.presentation import clause_label
from rules.registry import registry

ANSWER_CHOICES = [("", "不明"), ("yes", "是"), ("no", "否")]
DEFAULT_RULESETS = ["zhangjiakou", "henan", "hohhot"]
# A finding on one clause, as the investigator would record it; empty: not asked.
FINDING_CHOICES = [("", "—（不指定）"), ("met", "符合"), ("not_met", "不符合"), ("unknown", "待查明")]
CLAUSE_PREFIX = "c:"


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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reg = registry()
        self.fields["rulesets"].choices = [(f.id, f.title) for f in reg.families()]
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
        # One select per clause of each rule set (its latest version), instead of typing JSON.
        self.clause_groups: list[tuple[Any, list[str]]] = []
        for family in reg.families():
            names = []
            for clause in family.latest.clauses:
                name = f"{CLAUSE_PREFIX}{clause.id}"
                if name in self.fields:  # a clause shared by two rule sets (a department list extends its parent)
                    continue
                self.fields[name] = forms.ChoiceField(
                    label=clause_label(family.latest, clause.id), required=False, choices=FINDING_CHOICES
                )
                self.fields[name].kind_label = KIND_LABELS[clause.kind]
                names.append(name)
            self.clause_groups.append((family, names))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["findings"] = {
            name[len(CLAUSE_PREFIX):]: value
            for name, value in data.items()
            if name.startswith(CLAUSE_PREFIX) and value
        }
        return data

    def clause_bound_groups(self) -> list[dict[str, Any]]:
        """Each rule set with the selects of its clauses, for the page; open when one has an answer."""
        groups = []
        for family, names in self.clause_groups:
            fields = [self[name] for name in names]
            groups.append({"family": family, "fields": fields, "open": any(f.value() for f in fields)})
        return groups

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
