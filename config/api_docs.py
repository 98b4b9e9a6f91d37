"""The API schema and Swagger UI: open to anyone only when API_DOCS_PUBLIC (default: DEBUG); otherwise the
schema needs a token or session (401) and the documentation page sends the browser to the login page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


class DocsPermission(BasePermission):
    message = "API 文档仅对已登录用户开放。"

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(settings.API_DOCS_PUBLIC or (request.user and request.user.is_authenticated))


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsPermission]


_swagger = SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[DocsPermission])


def swagger(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger(request, *args, **kwargs)
