"""Small pages that belong to accounts: the service health check, changing one's own password, and the
second factor (enrolment of an authenticator and the verification step after the password)."""

from __future__ import annotations

import base64
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .middleware import password_expired_message
from .selectors import recovery_codes_left, totp_device_of, two_factor_applies
from .services import (
    two_factor_enrolment_confirm,
    two_factor_enrolment_start,
    two_factor_session_start,
    two_factor_verify,
    user_password_change,
)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Any signed-in user changes their own password; afterwards every session ends, this one too."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_password_change(user=request.user, password=form.cleaned_data["new_password1"])
        logout(request)
        messages.success(request, "密码已修改。为安全起见，您的所有会话和 API 令牌均已失效，请使用新密码重新登录。")
        return redirect("login")
    notice = password_expired_message(request.user) if request.user.password_expired() else ""
    return render(request, "accounts/password_change.html", {
        "form": form, "notice": notice, "rules": password_validators_help_texts(),
    })


class OtpCodeForm(forms.Form):
    code = forms.CharField(label="验证码", max_length=32, strip=True,
                           error_messages={"required": "请填写验证码。", "max_length": "验证码过长。"})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _qr_data_uri(text: str) -> str:
    """The otpauth:// URI as an SVG QR code drawn here (no external service), inlined as a data: URI."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: QR code and secret, confirmed by its first code; the recovery codes are shown
    once, on the answer to that confirmation. An enrolled user cannot enrol again (only an administrator
    resets it), so a stolen password alone cannot replace the authenticator."""
    user = request.user
    if not two_factor_applies(user):
        return render(request, "accounts/two_factor_status.html", {"applies": False})
    if totp_device_of(user) is not None:
        if not user.is_verified():
            return redirect("two-factor-verify")
        return render(request, "accounts/two_factor_status.html", {
            "applies": True, "codes_left": recovery_codes_left(user)})
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, codes = two_factor_enrolment_confirm(user=user, code=form.cleaned_data["code"], request=request)
        if result.ok:
            two_factor_session_start(request=request, device=result.device)
            return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", f"尝试过于频繁，请 {result.wait_seconds} 秒后再试。" if result.wait_seconds
                       else "验证码不正确，请核对手机上当前显示的 6 位数字（并检查手机时间）后重试。")
    device = two_factor_enrolment_start(user=user)
    secret = b32encode(device.bin_key).decode("ascii")
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "qr": _qr_data_uri(device.config_url), "secret": _grouped(secret),
        "issuer": settings.OTP_TOTP_ISSUER, "next": request.GET.get("next", "") or request.POST.get("next", ""),
    })


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor_verify_page(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator, or one recovery code."""
    user = request.user
    if not two_factor_applies(user) or user.is_verified():
        return redirect(_next_url(request))
    if totp_device_of(user) is None:
        return redirect("two-factor-setup")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = two_factor_verify(user=user, code=form.cleaned_data["code"], request=request)
        if result.ok:
            two_factor_session_start(request=request, device=result.device)
            if result.kind == "recovery":
                left = recovery_codes_left(user)
                messages.warning(request, f"您使用了一个恢复码，还剩 {left} 个。"
                                 + ("恢复码已用完，请联系系统管理员重置双因素认证。" if not left else
                                    "手机验证器丢失时请联系系统管理员重置。"))
            return redirect(_next_url(request))
        form.add_error("code", f"尝试过于频繁，请 {result.wait_seconds} 秒后再试。" if result.wait_seconds
                       else "验证码错误、已使用或已过期，请输入手机上新的 6 位数字，或一个未用过的恢复码。")
    return render(request, "accounts/two_factor_verify.html", {
        "form": form, "next": request.GET.get("next", "") or request.POST.get("next", "")})
