"""Scheduled work of the procedure: closing cases whose appeal window has passed, anchoring the history."""

import logging

from celery import shared_task

from . import services
from .history import history_anchor

logger = logging.getLogger(__name__)


@shared_task(name="workflow.tasks.cases_close_expired")
def cases_close_expired() -> int:
    return services.cases_close_expired()


@shared_task(name="workflow.tasks.history_anchor_write")
def history_anchor_write() -> int:
    """Anchor the history chain's head; a chain that lost what an earlier anchor recorded is logged as an error."""
    anchor, problem = history_anchor()
    if problem:
        logger.error("操作记录锚定：%s", problem)
    return anchor.pk


@shared_task(name="workflow.tasks.pending_uploads_purge")
def pending_uploads_purge() -> int:
    """Delete files chosen on applications that were never sent, once they expire."""
    return services.pending_uploads_purge()
