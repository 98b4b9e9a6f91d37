"""The site's error answers: a Chinese page in the site's layout with a way back, or under /api/ the
API's JSON error shape. Wired in ``config.urls`` (handler400/403/404/500) and ``CSRF_FAILURE_VIEW``.

The 500 page is rendered without the request's context processors (no database, no session): whatever
broke the request may be what they need.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# What the browser gets when even the layout cannot be rendered.
BARE_500 = ("<!DOCTYPE html><html lang=\"zh-Hans\"><head><meta charset=\"utf-8\"><title>系统出错</title></head>"
            "<body><h1>系统出错</h1><p>服务器处理您的请求时出错，工作人员会尽快处理。请稍后再试。</p>"
            "<p><a href=\"/\">回到首页</a></p></body></html>")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def back_url(request: HttpRequest) -> str:
    """The page the user came from, when it is on this site and is not the failing address itself."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    if parts.path == request.path:
        return ""
    return referer


def _message(exception: Exception | None) -> str:
    """A message the view raised with, if it is meant for people (Chinese); never Django's English ones."""
    text = str(exception or "").strip()
    if not text or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return ""
    return text


def _page(request: HttpRequest, template: str, status: int, message: str = "") -> HttpResponse:
    return render(request, template, {"message": message, "back_url": back_url(request)}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "请求无效。", "code": "invalid"}, status=400)
    return _page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _message(exception) or "您没有执行该操作的权限。",
                             "code": "permission_denied"}, status=403)
    return _page(request, "403.html", 403, _message(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "未找到该记录，或您无权查看。", "code": "not_found"}, status=404)
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "服务器内部错误，请稍后再试。", "code": "error"}, status=500)
    try:
        body = loader.get_template("500.html").render({})
    except Exception:  # the layout itself is what is broken: still answer in Chinese
        logger.exception("the 500 page could not be rendered")
        body = BARE_500
    return HttpResponse(body, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "CSRF 校验失败：请刷新页面后重试，或使用 API 令牌。",
                             "code": "csrf_failed"}, status=403)
    return _page(request, "403_csrf.html", 403)
