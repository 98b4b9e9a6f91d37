"""The site's URLs plus views that fail, to prove the error handlers (used with ``pytest.mark.urls``)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_patterns


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("只有问责部门可以办理。")


def refuse_in_english(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("You shall not pass")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("bad header")


urlpatterns = [
    path("boom/", explode),
    path("api/boom/", explode),
    path("refuse/", refuse),
    path("refuse-en/", refuse_in_english),
    path("suspicious/", suspicious),
    *site_patterns,
]

handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
