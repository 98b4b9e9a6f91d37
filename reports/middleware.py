"""The origin (scheme, host and port) of the request being served, for documents rendered during it.

Only development reads it, and only when ``SITE_URL`` is unset: ``runserver`` on another port then
prints QR codes that lead back to that port. Production never derives its address from a request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

_origin: ContextVar[str] = ContextVar("request_origin", default="")


def request_origin() -> str:
    """``http://host:port`` of the request being served in this thread, or "" outside one."""
    return _origin.get()


class RequestOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SITE_URL or not settings.SITE_URL_FROM_REQUEST:
            return self.get_response(request)
        try:
            origin = f"{request.scheme}://{request.get_host()}"
        except DisallowedHost:
            origin = ""
        token = _origin.set(origin)
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
