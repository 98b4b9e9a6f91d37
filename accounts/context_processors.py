"""Template context: the current user's roles, for the navigation."""

from django.http import HttpRequest

from .selectors import person_of, role_names, roles_of


def current_roles(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_roles": role_names(user), "my_memberships": roles_of(user), "my_person": person_of(user)}
