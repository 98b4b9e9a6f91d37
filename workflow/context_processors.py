"""Template context: the unread notification count for the bell."""

from django.http import HttpRequest

from .selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A fragment rendered with the request runs the processors again: count once per request.
    count = getattr(request, "_unread_notifications", None)
    if count is None:
        count = unread_count(user)
        request._unread_notifications = count  # type: ignore[attr-defined]
    return {"unread_notifications": count}
