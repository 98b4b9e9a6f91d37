"""The case record: subject, accountability organisation, findings, evidence, statements."""

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "容错案件"
