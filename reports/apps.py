"""Official documents (feedback letters, filing reports) as PDFs, the filing register and exports."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "文书与备案"
