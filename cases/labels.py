"""``get_<field>_display()`` that reads a dict built once per field.

Django's own rebuilds the field's choices dict (and makes each choice hashable) on every call; a list page
of a hundred rows asks for a few hundred labels, and this was a tenth of a filing register request.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def choice_labels(field: models.Field) -> dict[Any, Any]:
    """The field's choices as {value: label}, computed once (choices are fixed when the model is defined)."""
    labels = field.__dict__.get("_choice_labels")
    if labels is None:
        labels = field._choice_labels = dict(make_hashable(field.flatchoices))  # type: ignore[attr-defined]
    return labels


class ChoiceLabels:
    """A model mixin (before ``models.Model`` in the bases): the same labels as Django's, found in a dict."""

    def _get_FIELD_display(self, field: models.Field) -> Any:  # noqa: N802 - Django's name
        value = getattr(self, field.attname)
        return force_str(choice_labels(field).get(make_hashable(value), value), strings_only=True)
