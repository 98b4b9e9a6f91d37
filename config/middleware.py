"""Request plumbing that belongs to no app: the trusted client address, rate limits, lockout answers.

The client address is settled once, first, in ``TrustedProxyMiddleware``: every later layer (the
lockout, DRF's throttles, the audit record) reads ``REMOTE_ADDR`` and nothing else.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def trusted_client_ip(meta: dict[str, Any]) -> str | None:
    """The client address: from the configured proxy header when set and well-formed, else REMOTE_ADDR."""
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        key = "HTTP_" + header.upper().replace("-", "_")
        raw = meta.get(key, "")
        if raw:
            # X-Forwarded-For grows to the right: the entries our own proxies appended are the last ones.
            parts = [p for p in raw.split(",") if p.strip()]
            if len(parts) >= settings.TRUSTED_PROXY_COUNT:
                ip = _valid_ip(parts[-settings.TRUSTED_PROXY_COUNT])
                if ip:
                    return ip
    return meta.get("REMOTE_ADDR")


class TrustedProxyMiddleware:
    """Replace REMOTE_ADDR with the client address the trusted proxy reported (the peer is kept)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.TRUSTED_PROXY_HEADER:
            request.META["PROXY_ADDR"] = request.META.get("REMOTE_ADDR", "")
            ip = trusted_client_ip(request.META)
            if ip:
                request.META["REMOTE_ADDR"] = ip
        return self.get_response(request)


def client_ip(request: Any) -> str | None:
    """For django-axes (``AXES_CLIENT_IP_CALLABLE``): the address TrustedProxyMiddleware settled."""
    return request.META.get("REMOTE_ADDR")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """What a locked-out username sees: the API's JSON error shape, or the login page with a Chinese message."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    message = (f"该账号连续 {settings.LOGIN_FAILURE_LIMIT} 次登录失败，已被锁定 {minutes} 分钟，"
               f"请稍后再试或联系系统管理员解锁。")
    if _is_api(request):
        response: HttpResponse = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}[period]
    return int(count), seconds


class AnonymousRateLimitMiddleware:
    """A fixed-window limit on pages requested without a session (the login page, document verification).

    The API has DRF's own throttles; static files are served before this middleware runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not _is_api(request) and (user is None or not user.is_authenticated):
            limit, window = _parse_rate(settings.PAGE_ANON_RATE)
            bucket = int(time.time() // window)
            key = f"anon-page-rate:{request.META.get('REMOTE_ADDR', '')}:{bucket}"
            cache.add(key, 0, timeout=window + 1)
            try:
                hits = cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=window + 1)
                hits = 1
            if hits > limit:
                response = render(request, "429.html", {"retry_after": window}, status=429)
                response["Retry-After"] = str(window)
                return response
        return self.get_response(request)


def _bad_query_parameter(request: HttpRequest) -> str | None:
    """The name of the first query parameter holding a NUL byte or bytes that are not UTF-8, if any."""
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return None
    # WSGI hands the raw bytes over as latin-1 text; undo that, then the percent-escapes, strictly.
    for pair in raw.encode("iso-8859-1", errors="replace").split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            data = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name).decode("utf-8", errors="replace") or "?"
            if "\x00" in text:
                return unquote_to_bytes(name).decode("utf-8", errors="replace").replace("\x00", "") or "?"
    return None


class QueryStringGuardMiddleware:
    """A NUL byte or undecodable bytes in the query string is a 400 (the API's JSON error shape or a
    Chinese page), before any view or database sees it: PostgreSQL refuses NUL in text with a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = _bad_query_parameter(request)
        if name is not None:
            message = f"查询参数 {name} 含有无效字符（空字符或非 UTF-8 编码），请检查后重试。"
            if _is_api(request):
                return JsonResponse({"detail": f"{name}: {message}", "code": "invalid", "field": name}, status=400)
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


PERMISSIONS_POLICY = ("accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
                      "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
                      "fullscreen=(self)")
# Evidence previews are framed by the case page itself (same origin); everything else is never framed.
FRAMEABLE_URL_NAMES = frozenset({"case-evidence-file"})


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer; ``Cache-Control: no-store`` on everything answered to a signed-in
    user (case pages, documents, exports, the API) and on the URL names in ``NO_STORE_URL_NAMES``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        url_name = match.view_name if match else ""
        if (user is not None and user.is_authenticated) or url_name in settings.NO_STORE_URL_NAMES:
            add_never_cache_headers(response)
            response.headers["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            response.headers["Pragma"] = "no-cache"
        if url_name in FRAMEABLE_URL_NAMES:
            response.setdefault("X-Frame-Options", "SAMEORIGIN")
            response._csp_replace = {"frame-ancestors": ["'self'"]}  # type: ignore[attr-defined]
        return response


class AccessLogUserMiddleware:
    """Tells the server's access log who made each request (gunicorn logs the ``X-Log-User`` response
    header); the TLS proxy in front strips the header so it never reaches the browser. Off unless
    ``ACCESS_LOG_USER`` is set, as in the compose stack."""

    header = "X-Log-User"

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF's token authentication sets it on the request too
        if settings.ACCESS_LOG_USER and user is not None and user.is_authenticated:
            response[self.header] = str(user.pk)
        return response


class RequestSizeLimitMiddleware:
    """A body larger than ``REQUEST_MAX_BYTES`` (the per-request upload quota plus the form fields) is a 413
    before Django reads it: otherwise a hundred 20 MB files land in temporary files before any check runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.REQUEST_MAX_BYTES
        if length > limit:
            message = (f"提交的内容过大（{length / 1048576:.0f} MB）：一次上传的文件总量不能超过 "
                       f"{settings.UPLOAD_MAX_REQUEST_BYTES / 1048576:.0f} MB，请分批上传。")
            if _is_api(request):
                return JsonResponse({"detail": message, "code": "too_large"}, status=413)
            return render(request, "400.html", {"message": message}, status=413)
        return self.get_response(request)
