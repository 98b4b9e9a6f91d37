"""The Celery app; tasks are discovered in each app's ``tasks.py``."""

import os
import sys

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_services(**_: object) -> None:
    """A worker that cannot reach the database or Redis says so in one line and stops."""
    from config.preflight import service_problems

    problems = service_problems()
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        sys.exit(1)
