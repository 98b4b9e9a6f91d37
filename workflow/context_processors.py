"""Template context: the unread notification count for the bell."""

from django.http import HttpRequest

from .selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
