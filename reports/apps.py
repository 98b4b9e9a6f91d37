"""Official documents (feedback letters, filing reports) as PDFs, the filing register and exports."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "文书与备案"

    def ready(self) -> None:
        # Register the tasks in every process (web too): workflow's outbox kick looks the dispatcher up
        # by name, and Celery's lazy autodiscovery only runs inside a worker.
        from . import tasks  # noqa: F401
        from .tally import connect

        connect()
