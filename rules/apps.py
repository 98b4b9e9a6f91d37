"""Rule-set files, their loader and the pure evaluation engine; imports no other app."""

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "容错规则"
