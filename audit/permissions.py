"""Who reads the audit record: members of the auditor group (审计员), and nobody else.

A system administrator (superuser) is not an auditor even if put into the group: the two duties are
kept apart (三权分立 of 等保 2.0: system, security and audit administrators).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def is_auditor(user: Any) -> bool:
    if not (user is not None and user.is_authenticated and user.is_active and not user.is_superuser):
        return False
    # Asked by the navigation and by the audit pages in the same request: one query per user object.
    cached = getattr(user, "_is_auditor", None)
    if cached is None:
        cached = user.groups.filter(name=settings.AUDIT_AUDITOR_GROUP).exists()
        user._is_auditor = cached
    return bool(cached)
