"""What every door shares: the acting user as an Actor (who, in which roles, from where, how)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User
from accounts.selectors import primary_organisation, role_names

from .history import Actor


def actor_for(user: User, request: HttpRequest | None = None, *, via: str = "web") -> Actor:
    org = primary_organisation(user)
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return Actor(user=user, role=",".join(role_names(user)), organisation=org.name if org else "", ip=ip, via=via)
