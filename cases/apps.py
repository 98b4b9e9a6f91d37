"""The case record: subject, accountability organisation, findings, evidence, statements."""

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "容错案件"

    def ready(self) -> None:
        from django.db import models

        from .lookups import AnyOf, BigramsMatch, TermStarts
        from .models import Case

        models.Field.register_lookup(AnyOf)
        models.ForeignObject.register_lookup(AnyOf)
        Case._meta.get_field("id").register_lookup(BigramsMatch)
        Case._meta.get_field("id").register_lookup(TermStarts)
