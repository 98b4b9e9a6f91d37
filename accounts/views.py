"""Small pages that belong to accounts: the service health check and changing one's own password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .middleware import password_expired_message
from .services import user_password_change


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
