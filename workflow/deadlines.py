"""How long each stage may take before a case is overdue (催办/超期).

The documents name no time limits for these stages (Hohhot art. 8 gives one month for a reply to
an inquiry, 函询), so they are configuration: ``STAGE_DEADLINE_DAYS`` in settings overrides these.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

DEFAULT_STAGE_DAYS = {
    "started": 7,
    "investigating": 30,
    "proposed": 15,
    "decided": 10,
    "appealed": 30,
}


def stage_days() -> dict[str, int]:
    return {**DEFAULT_STAGE_DAYS, **getattr(settings, "STAGE_DEADLINE_DAYS", {})}


def deadline_for(state: str, *, start: dt.date | None = None) -> dt.date | None:
    days = stage_days().get(state)
    if days is None:
        return None
    return (start or timezone.localdate()) + dt.timedelta(days=days)


def appeal_window_days() -> int:
    return int(getattr(settings, "APPEAL_WINDOW_DAYS", 30))
