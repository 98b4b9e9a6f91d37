"""Receivers for what Django and django-axes announce: log-in, log-out, failed log-in, lockout,
a password set on a user, and every admin change (LogEntry)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.events import two_factor_event

from .models import AuditAction
from .services import audit_record


def _http_request(request: Any) -> Any:
    # DRF passes its own Request wrapper around; the address lives on the Django request inside.
    return getattr(request, "_request", request)


@receiver(user_logged_in, dispatch_uid="audit.login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    request = _http_request(request)
    via_api = getattr(request, "path", "").startswith("/api/")
    audit_record(action=AuditAction.LOGIN, success=True, request=request, user=user,
                 detail="签发 API 令牌" if via_api else "网页登录")


@receiver(user_logged_out, dispatch_uid="audit.logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGOUT, success=True, request=_http_request(request), user=user,
                 username="" if user else "（会话已失效）")


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    request = _http_request(request)
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_record(action=AuditAction.LOGIN_FAILED, success=False, request=request, user=None,
                 username=str(credentials.get("username") or ""),
                 detail="账号已锁定，未校验密码" if locked else "用户名或密码错误")


@receiver(user_locked_out, dispatch_uid="audit.lockout")
def on_lockout(sender: Any, request: Any, username: str | None = None, ip_address: str | None = None,
               **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOCKOUT, success=False, request=_http_request(request), user=None,
                 username=username or "", detail=f"连续登录失败达到上限，锁定（来自 {ip_address or '未知地址'}）")


@receiver(post_save, sender=get_user_model(), dispatch_uid="audit.password")
def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # Django keeps the new raw password on the instance until save() has finished: set_password was called.
    if created or getattr(instance, "_password", None) is None:
        return
    audit_record(action=AuditAction.PASSWORD_CHANGE, success=True, user=None, username=instance.get_username(),
                 object_type="user", object_id=str(instance.pk),
                 detail="本人修改" if _acting_user_pk() == instance.pk else "由他人设置（管理员或命令）")


def _acting_user_pk() -> Any:
    from .context import current_request

    request = current_request.get()
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@receiver(post_save, sender=LogEntry, dispatch_uid="audit.admin_change")
def on_admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    kind = {1: "新增", 2: "修改", 3: "删除"}.get(instance.action_flag, "操作")
    model = instance.content_type.model if instance.content_type_id else ""
    audit_record(action=AuditAction.ADMIN_CHANGE, success=True, user=instance.user, object_type=model,
                 object_id=instance.object_id or "",
                 detail=f"{kind} {instance.object_repr}：{instance.get_change_message()}")


@receiver(two_factor_event, dispatch_uid="audit.two_factor")
def on_two_factor(sender: Any, action: str, success: bool, request: Any = None, user: Any = None,
                  **fields: Any) -> None:
    """Two-factor events announced by accounts (enrolled, verified, failed, recovery code used, reset)."""
    audit_record(action=AuditAction(action), success=success, request=request, user=user,
                 **{k: v for k, v in fields.items() if k in {"detail", "object_type", "object_id"}})
