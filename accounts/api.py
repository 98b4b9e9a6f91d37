"""REST endpoints for authentication and the current user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .selectors import person_of, primary_organisation, role_names


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(
            f"该账号连续 {settings.LOGIN_FAILURE_LIMIT} 次登录失败，已被锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟，"
            "请稍后再试或联系系统管理员解锁。"
        )


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token (rate-limited; the username lockout applies)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()})},
        summary="获取 API 令牌",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: the lockout flags it, and AxesMiddleware reads the same object.
        http_request = request._request
        user = authenticate(
            http_request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if getattr(http_request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise ValidationError({"password": ["用户名或密码错误。"]}, code="authorization")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeApi(APIView):
    """Who the caller is: username, roles, organisation and linked cadre record."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "MeOutput",
                {
                    "username": serializers.CharField(),
                    "full_name": serializers.CharField(),
                    "roles": serializers.ListField(child=serializers.CharField()),
                    "organisation": serializers.DictField(allow_null=True),
                    "person": serializers.DictField(allow_null=True),
                },
            )
        },
        summary="当前用户",
    )
    def get(self, request: Request) -> Response:
        user = request.user
        org = primary_organisation(user)
        person = person_of(user)
        return Response(
            {
                "username": user.username,
                "full_name": user.display_name(),
                "roles": role_names(user),
                "organisation": {"id": org.pk, "name": org.name, "kind": org.kind} if org else None,
                "person": {"id": person.pk, "name": person.name, "unit": person.unit.name} if person else None,
            }
        )
