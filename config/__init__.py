"""Project wiring: settings, URLs, the Celery app. Knows every app; no app knows it."""

from .celery import app as celery_app

__all__ = ("celery_app",)
