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


@shared_task(name="workflow.tasks.deadlines_check")
def deadlines_check(day: str | None = None) -> dict[str, int]:
    """Reminders (催办), overdue notices (超期) and escalation (超期督办): each once per case and stage.

    ``day`` (YYYY-MM-DD) checks as of that date instead of today, e.g. to catch up after an outage.
    """
    import datetime as dt

    from .services.reminders import deadlines_check as check

    return check(today=dt.date.fromisoformat(day) if day else None)


@shared_task(name="workflow.tasks.notices_deliver")
def notices_deliver() -> int:
    """Mail the notices still pending (single mails); failures stay pending for the next run."""
    from .services.notices import notices_deliver as deliver

    return deliver()


@shared_task(name="workflow.tasks.notices_digest_send")
def notices_digest_send() -> int:
    """The daily digest for officers who chose it."""
    from .services.notices import notices_digest_send as digest

    return digest()
