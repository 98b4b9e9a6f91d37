"""One row per audited event; rows are written once and never changed (model guard + database trigger)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F
from django.db.models.functions import Upper


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKOUT = "lockout", "账号锁定"
    LOGOUT = "logout", "退出"
    SESSION_TIMEOUT = "session_timeout", "会话超时"
    PASSWORD_CHANGE = "password_change", "修改密码"
    DENIED = "denied", "拒绝访问（403）"
    NOT_FOUND = "not_found", "对象不存在或无权查看（404）"
    READ = "read", "查阅案件材料"
    EXPORT = "export", "导出下载"
    ADMIN_CHANGE = "admin_change", "管理员操作"
    OTP_ENROLLED = "otp_enrolled", "启用双因素认证"
    OTP_VERIFIED = "otp_verified", "双因素验证通过"
    OTP_FAILED = "otp_failed", "双因素验证失败"
    OTP_RECOVERY_USED = "otp_recovery_used", "使用恢复码登录"
    OTP_RESET = "otp_reset", "管理员重置双因素认证"
    HISTORY_ANCHOR = "history_anchor", "操作记录锚定"


class ImmutableAuditError(Exception):
    """Audit records are never changed, and deleted only by the retention purge."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableAuditError("审计记录不可修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableAuditError("审计记录不可删除；保存期满的记录只能用 audit_purge 命令清理。")


class AuditEvent(models.Model):
    """Who (user id and username as typed), when, what (action, route, object), from where, result."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    # Not a foreign key: deleting a user must neither cascade into nor rewrite the audit trail.
    user_id = models.BigIntegerField("用户 ID", null=True, blank=True, db_index=True)
    username = models.CharField("用户名", max_length=150, blank=True, db_index=True)
    action = models.CharField("事件", max_length=20, choices=AuditAction.choices, db_index=True)
    success = models.BooleanField("成功")
    ip = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    method = models.CharField("请求方法", max_length=10, blank=True)
    path = models.CharField("请求路径", max_length=500, blank=True)
    route = models.CharField("路由名", max_length=100, blank=True)
    object_type = models.CharField("对象类型", max_length=50, blank=True)
    object_id = models.CharField("对象 ID", max_length=50, blank=True)
    status_code = models.PositiveSmallIntegerField("响应状态", null=True, blank=True)
    detail = models.TextField("说明", blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The search page reads keyset pages newest first (``listing.keyset``): the whole record, one
            # user's events (the username as the search compares it, case-insensitively), one kind of event.
            models.Index(F("at").desc(), F("id").desc(), name="audit_at_idx"),
            models.Index(Upper("username"), F("at").desc(), F("id").desc(), name="audit_username_at_idx"),
            models.Index(F("action"), F("at").desc(), F("id").desc(), name="audit_action_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '匿名'} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableAuditError("审计记录不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableAuditError("审计记录不可删除；保存期满的记录只能用 audit_purge 命令清理。")
