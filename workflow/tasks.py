"""Scheduled work of the procedure: closing cases whose appeal window has passed."""

from celery import shared_task

from . import services


@shared_task(name="workflow.tasks.cases_close_expired")
def cases_close_expired() -> int:
    return services.cases_close_expired()
