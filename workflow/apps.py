"""The procedure: transitions, permissions, hash-chained history, consultations, decisions, appeals."""

from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "容错程序"
