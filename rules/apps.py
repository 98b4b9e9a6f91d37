"""Rule-set files, their loader and the pure evaluation engine; imports no other app."""

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "容错规则"

    def ready(self) -> None:
        # Registers the system check that loads and validates every rule-set file at start-up.
        from rules import checks  # noqa: F401
