"""REST endpoints for authentication and the current user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .models import ApiToken
from .selectors import person_of, primary_organisation, role_names, totp_device_of, two_factor_applies
from .services import api_token_issue, api_token_revoke, two_factor_verify


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(
            f"该账号连续 {settings.LOGIN_FAILURE_LIMIT} 次登录失败，已被锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟，"
            "请稍后再试或联系系统管理员解锁。"
        )


class OtpRequired(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "otp_required"
    default_detail = "该账号须使用双因素认证：请先在网页上登录并设置动态验证码，再获取 API 令牌。"


class TokenCreateApi(APIView):
    """Exchange a username and password, and a one-time code (``otp``) where 2FA applies, for an API token
    (rate-limited; the username lockout applies)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        otp = serializers.CharField(
            max_length=32, required=False, allow_blank=True,
            help_text="动态验证码（6 位）或一个恢复码；须使用双因素认证的账号必填")

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField(),
                                                          "expires_at": serializers.DateTimeField()})},
        summary="获取 API 令牌（有效期见 API_TOKEN_HOURS，默认 12 小时）",
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
        second_factor = two_factor_applies(user)
        if second_factor:
            if totp_device_of(user) is None:
                raise OtpRequired()
            code = data.validated_data.get("otp", "")
            if not code:
                raise ValidationError({"otp": ["该账号须使用双因素认证：请填写动态验证码（otp）。"]}, code="otp_required")
            result = two_factor_verify(user=user, code=code, request=http_request)
            if not result.ok:
                message = (f"尝试过于频繁，请 {result.wait_seconds} 秒后再试。" if result.wait_seconds
                           else "动态验证码错误、已使用或已过期。")
                raise ValidationError({"otp": [message]}, code="otp_invalid")
        # A token is a log-in: Django's signal updates last_login and lets the audit record it.
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        token, key = api_token_issue(user=user, name=request.headers.get("User-Agent", ""),
                                     ip=http_request.META.get("REMOTE_ADDR"), second_factor=second_factor)
        return Response({"token": key, "expires_at": token.expires_at})


class TokenInfoSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "name", "created_at", "expires_at", "last_used_at", "created_ip", "current"]

    def get_current(self, token: ApiToken) -> bool:
        return token == self.context.get("current")


class TokenListApi(APIView):
    """The caller's own valid API tokens (the keys themselves are never shown again)."""

    @extend_schema(responses={200: TokenInfoSerializer(many=True)}, summary="我的 API 令牌")
    def get(self, request: Request) -> Response:
        from django.utils import timezone

        tokens = ApiToken.objects.filter(user=request.user, expires_at__gt=timezone.now())
        current = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(TokenInfoSerializer(tokens, many=True, context={"current": current}).data)


class TokenRevokeApi(APIView):
    """Revoke one of the caller's own tokens; another user's token is simply not found."""

    @extend_schema(responses={204: None}, summary="撤销 API 令牌")
    def delete(self, request: Request, token_id: int) -> Response:
        token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
        if token is None:
            from django.http import Http404

            raise Http404("未找到该令牌。")
        api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
