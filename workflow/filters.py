"""The case list's filters, defined once for the inbox pages, ``GET /api/cases/`` and its schema."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from cases.models import Case, CaseState, Outcome
from cases.search import case_search


class IdField(forms.CharField):
    """A database id: ASCII digits that fit a bigint, so an odd or huge value is a 400, not a 500."""

    def __init__(self, *args: Any, label: str = "编号", **kwargs: Any) -> None:
        self.what = label.removesuffix("编号")
        super().__init__(*args, label=label, **kwargs)

    def clean(self, value: Any) -> int | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        if not (text.isascii() and text.isdecimal()) or len(text) > 18:
            raise forms.ValidationError(f"{self.what}应为正整数编号。", code="invalid")
        return int(text)


class IdFilter(django_filters.Filter):
    field_class = IdField


class StatesField(forms.CharField):
    """One state or several separated by commas, each a known state."""

    def clean(self, value: Any) -> list[str] | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        states = [s for s in text.split(",") if s]
        bad = [s for s in states if s not in CaseState.values]
        if bad:
            # The input goes in as a parameter: a '%' in it must not be read as a format directive.
            raise forms.ValidationError("未知状态：%(states)s", code="invalid_choice",
                                        params={"states": "、".join(bad)[:200]})
        return states


class StatesFilter(django_filters.Filter):
    field_class = StatesField

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        return qs.filter(state__in=value) if value else qs


_DATE_ERROR = {"invalid": "日期格式应为 YYYY-MM-DD。"}
_FLAG = [("true", "是"), ("false", "否"), ("1", "是"), ("0", "否")]


class _CaseFilterBase(django_filters.FilterSet):
    state = StatesFilter(label="状态，可用逗号分隔多个")
    organisation = IdFilter(field_name="accountability_org_id", label="问责部门编号")
    unit = IdFilter(field_name="subject__unit_id", label="当事干部所在单位编号")
    ruleset = django_filters.CharFilter(field_name="ruleset", label="适用规则")
    outcome = django_filters.ChoiceFilter(field_name="outcome", choices=Outcome.choices, label="结论")
    overdue = django_filters.ChoiceFilter(
        choices=_FLAG, method="filter_overdue", label="是否超期（true / false）",
        error_messages={"invalid_choice": "overdue 应为 true 或 false。"},
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="检索：案件编号（如 容案2026-00017、2026-00017）、事项名称、当事干部或单位名称、基本情况；多个词以空格分隔",
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_overdue(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.overdue() if value in {"true", "1"} else qs.not_overdue()

    def filter_text(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return case_search(qs, value)


# "from" is a Python keyword, so the two date bounds are declared by name.
CaseFilter: type[django_filters.FilterSet] = type("CaseFilter", (_CaseFilterBase,), {
    "from": django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte",
                                      label="创建日期起 YYYY-MM-DD", error_messages=_DATE_ERROR),
    "to": django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte",
                                    label="创建日期止 YYYY-MM-DD", error_messages=_DATE_ERROR),
    "__module__": __name__,
    "__doc__": "Every filter of the case list: the inbox pages, the API and the OpenAPI schema use this class.",
})
