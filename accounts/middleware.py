"""Session rules for signed-in users: forced password change and rotation, idle and absolute timeouts."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

# Pages a user whose password must change can still reach.
PASSWORD_EXEMPT_URL_NAMES = {"password-change", "logout", "login", "healthz", "admin:logout", "api-token"}


def _url_name(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    return match.view_name


class PasswordPolicyMiddleware:
    """A signed-in user whose password was reset by an administrator or is older than
    PASSWORD_MAX_AGE_DAYS is sent to the change page (pages) or refused with 403 (API)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and user.password_expired()
                and not request.path.startswith(settings.STATIC_URL)
                and _url_name(request) not in PASSWORD_EXEMPT_URL_NAMES):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": password_expired_message(user), "code": "password_expired"},
                                    status=403)
            return redirect("password-change")
        return self.get_response(request)


def password_expired_message(user: object) -> str:
    if getattr(user, "must_change_password", False):
        return "管理员已重置您的密码，请先修改密码后再继续使用。"
    return f"您的密码已超过 {settings.PASSWORD_MAX_AGE_DAYS} 天未修改，请先修改密码后再继续使用。"
