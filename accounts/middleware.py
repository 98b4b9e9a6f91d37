"""Session rules for signed-in users: the second factor, forced password change and rotation, idle and
absolute timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode

from .selectors import totp_device_of, two_factor_applies

TWO_FACTOR_URL_NAMES = {"two-factor-verify", "two-factor-setup"}
# Pages a user whose password must change can still reach (the second factor comes first).
PASSWORD_EXEMPT_URL_NAMES = {"password-change", "logout", "login", "healthz", "admin:logout", "api-token",
                             *TWO_FACTOR_URL_NAMES}
# All a signed-in user who has not yet passed the second factor can reach. The token endpoint checks
# its own one-time code.
TWO_FACTOR_EXEMPT_URL_NAMES = {"logout", "login", "healthz", "admin:logout", "api-token", *TWO_FACTOR_URL_NAMES}
OTP_REQUIRED_MESSAGE = "请先完成双因素认证（动态验证码）后再使用本系统。"


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


class TwoFactorMiddleware:
    """A signed-in user to whom 2FA applies and whose session has not passed it reaches nothing but the
    verification (or enrolment) page: pages redirect there, the API answers 403 ``otp_required``.
    API tokens are checked in ``ApiTokenAuthentication`` (only one issued against a code is accepted)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and two_factor_applies(user)
                and not user.is_verified()
                and not request.path.startswith(settings.STATIC_URL)
                and _url_name(request) not in TWO_FACTOR_EXEMPT_URL_NAMES):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": OTP_REQUIRED_MESSAGE, "code": "otp_required"}, status=403)
            target = "two-factor-verify" if totp_device_of(user) else "two-factor-setup"
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse(target) + (f"?{query}" if query else ""))
        return self.get_response(request)


def password_expired_message(user: object) -> str:
    if getattr(user, "must_change_password", False):
        return "管理员已重置您的密码，请先修改密码后再继续使用。"
    return f"您的密码已超过 {settings.PASSWORD_MAX_AGE_DAYS} 天未修改，请先修改密码后再继续使用。"


SESSION_AUTH_AT = "_auth_at"
SESSION_SEEN_AT = "_seen_at"
# The idle clock is refreshed at most this often, so that not every request writes the session.
SEEN_PRECISION_SECONDS = 30


class SessionTimeoutMiddleware:
    """End this session (only this one) after SESSION_IDLE_MINUTES idle or SESSION_ABSOLUTE_HOURS in all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.get("_auth_user_id"):
            now = time.time()
            auth_at = session.setdefault(SESSION_AUTH_AT, now)
            seen_at = session.get(SESSION_SEEN_AT, now)
            idle = now - seen_at > settings.SESSION_IDLE_MINUTES * 60
            too_old = now - auth_at > settings.SESSION_ABSOLUTE_HOURS * 3600
            if idle or too_old:
                session.flush()
                request.user = AnonymousUser()
                message = (f"您已 {settings.SESSION_IDLE_MINUTES} 分钟未操作" if idle
                           else f"本次登录已超过 {settings.SESSION_ABSOLUTE_HOURS} 小时") + "，会话已结束，请重新登录。"
                request.session_timeout = "idle" if idle else "absolute"  # type: ignore[attr-defined]
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": message, "code": "session_expired"}, status=401)
                messages.info(request, message)
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}")
            if now - seen_at >= SEEN_PRECISION_SECONDS or SESSION_SEEN_AT not in session:
                session[SESSION_SEEN_AT] = now
        return self.get_response(request)
