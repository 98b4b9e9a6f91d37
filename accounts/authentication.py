"""API authentication by expiring, revocable tokens (``Authorization: Token <key>``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .models import ApiToken
from .selectors import two_factor_applies
from .services import token_hash

KEYWORD = "Token"
# Writing last_used_at on every call would turn each read into a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("令牌格式无效：应为 “Token <令牌>”。")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("令牌格式无效。") from None
        # With the user's cadre record (or its absence), which the visibility rule asks for next.
        token = ApiToken.objects.select_related("user__person").filter(key_hash=token_hash(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效或已被撤销。")
        now = timezone.now()
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed("令牌已过期，请重新获取。")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该用户已停用。")
        if token.user.password_expired():
            raise exceptions.PermissionDenied("密码已过期或已被管理员重置，请先在网页上修改密码。", code="password_expired")
        if not token.second_factor and two_factor_applies(token.user):
            # Issued before 2FA applied to this user (turned on, or a new role): ask for a new one.
            raise exceptions.PermissionDenied("该令牌签发时未经双因素认证，请携带动态验证码（otp）重新获取令牌。",
                                              code="otp_required")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Token-based authentication with required prefix \"Token\""}
