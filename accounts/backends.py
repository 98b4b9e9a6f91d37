"""Password sign-in against the user table, and the signed-in user read back for each request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends

from .models import User


class ModelBackend(backends.ModelBackend):
    """Django's, except that each request reads the user with their cadre record (or its absence) in the same
    query: the visibility rule and the navigation ask for it on every page."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("person").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
