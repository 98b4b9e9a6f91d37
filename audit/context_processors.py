"""Template context: whether the navigation shows the audit page."""

from django.http import HttpRequest

from .permissions import is_auditor


def auditor(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {"is_auditor": is_auditor(user)} if user is not None and user.is_authenticated else {}
