"""Log-out ends every session and API token of the user, whichever door (site or admin) it came through.

A receiver rather than a view: Django's own log-out views (the site's and the admin's) both send
``user_logged_out``; this is the one place that hears both.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .services import user_sessions_end


@receiver(user_logged_out, dispatch_uid="accounts.end_sessions_on_logout")
def end_sessions_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        user_sessions_end(user=user)
