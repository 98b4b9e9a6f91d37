"""The select drawn in Python writes exactly what Django's select template writes."""

from __future__ import annotations

import pytest
from django import forms

from accounts.models import User
from workflow.forms import QuickSelect, ReadOnceChoices

CHOICES = [
    ("", "（不关联）"),
    ("zjk.S1", "第七条第（一）项 <先行先试> & “改革”"),
    ("zjk.S2", 'Quote " and \' inside'),
    (3, "a number as the value"),
]
GROUPED = [("", "请选择"), ("第一组", [("a", "甲"), ("b", "乙")]), ("第二组 <x>", [("c", "丙")])]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED, []])
@pytest.mark.parametrize("value", [None, "", "zjk.S1", 3, "b", ["a", "c"]])
@pytest.mark.parametrize("attrs", [None, {"id": "id_clause_id"}, {"id": "x", "required": True, "disabled": False,
                                                                   "data-note": 'a "quoted" <note>'}])
def test_quick_select_writes_what_the_select_template_writes(choices, value, attrs):
    expected = forms.Select(choices=choices).render("clause_id", value, attrs)
    assert QuickSelect(choices=choices).render("clause_id", value, attrs) == expected


@pytest.mark.django_db
def test_model_choices_read_once_and_draw_the_same_options(world, django_assert_num_queries):
    users = User.objects.filter(pk__in=[world.users["inspector"].pk, world.users["inspector2"].pk]).order_by("pk")

    class Plain(forms.Form):
        handler = forms.ModelChoiceField(queryset=users)

        def __init__(self) -> None:
            super().__init__()
            self.fields["handler"].label_from_instance = lambda u: u.display_name()

    class Quick(forms.Form):
        handler = forms.ModelChoiceField(queryset=None, widget=QuickSelect)  # type: ignore[arg-type]

        def __init__(self) -> None:
            super().__init__()
            self.fields["handler"].iterator = ReadOnceChoices
            self.fields["handler"].queryset = users
            self.fields["handler"].label_from_instance = lambda u: u.display_name()

    quick = Quick()
    with django_assert_num_queries(1):
        drawn = str(quick["handler"])
        assert str(quick["handler"]) == drawn  # drawn again from the rows already read
    assert drawn == str(Plain()["handler"])
    assert all(u.display_name() in drawn for u in users)
