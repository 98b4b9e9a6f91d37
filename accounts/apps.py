"""Users, organisations (a tree), cadres (persons), roles and management authority."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与组织"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the log-out receiver
