"""The audit record (安全审计): who did what, when, from where, with what result. Imports no other app."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "安全审计"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
