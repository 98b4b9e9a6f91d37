"""REST endpoints for authentication and the current user."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import person_of, primary_organisation, role_names


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

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
        user = authenticate(
            request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
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
