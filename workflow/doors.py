"""What every door shares: the acting user as an Actor (who, in which roles, from where, how)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from accounts.selectors import primary_organisation, role_names

from .errors import WorkflowError
from .history import Actor


def actor_for(user: User, request: HttpRequest | None = None, *, via: str = "web") -> Actor:
    org = primary_organisation(user)
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return Actor(
        user=user, role=",".join(role_names(user)), organisation=org.name if org else "", ip=ip, via=via
    )


def form_errors_from(exc: WorkflowError, form: Any) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    field = exc.field if exc.field in getattr(form, "fields", {}) else None
    form.add_error(field, exc.message)
