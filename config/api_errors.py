"""One error shape for the whole API: ``{"detail": ..., "code": ..., "errors": {field: [...]}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _first_message(data: Any) -> tuple[str, str | None]:
    """The first message in a nested error structure and the field path it belongs to."""
    if isinstance(data, dict):
        for key, value in data.items():
            msg, sub = _first_message(value)
            field = key if key != "non_field_errors" else None
            if sub and field:
                return msg, f"{field}.{sub}"
            return msg, field or sub
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data), None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    from rules.errors import RuleError
    from workflow.errors import WorkflowError

    if isinstance(exc, WorkflowError):
        body = {"detail": f"{exc.field}: {exc.message}" if exc.field else exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status)
    if isinstance(exc, RuleError):
        return Response({"detail": str(exc), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到该记录，或您无权查看。")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        message, field = _first_message(exc.detail)
        codes = exc.get_codes()
        code = "invalid"
        if isinstance(codes, dict) and field:
            first = codes.get(field.split(".")[0])
            code = first[0] if isinstance(first, list) and first and isinstance(first[0], str) else "invalid"
        body: dict[str, Any] = {
            "detail": f"{field}: {message}" if field else message,
            "code": code,
            "field": field,
            "errors": exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail},
        }
        response.data = body
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    detail = getattr(exc, "detail", str(exc))
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(detail, dict | list):
        detail, _ = _first_message(detail)
    response.data = {"detail": str(detail), "code": code if isinstance(code, str) else "error"}
    return response
