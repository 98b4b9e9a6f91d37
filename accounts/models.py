"""Users, the organisation tree, cadres (persons) and role memberships."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


class User(AbstractUser):
    """A login. Roles come from memberships in organisations; ``is_superuser`` is the system admin."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField(
        "下次登录须修改密码", default=False, help_text="由管理员强制重置：登录后只能先修改密码")
    # Part of every session's auth hash: raising it ends all of the user's sessions at once.
    session_epoch = models.PositiveIntegerField("会话代数", default=0, editable=False)
    # Notices are always in-app; when SMTP is configured they are also e-mailed, one by one or daily.
    notice_digest = models.BooleanField(
        "通知邮件每日汇总", default=False, help_text="选中后不逐条发送通知邮件，每天汇总发送一次")

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    def set_password(self, raw_password: str | None) -> None:
        # Every path that sets a password (the change page, admin, createsuperuser, changepassword) goes
        # through here, so the rotation clock cannot be skipped.
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's hash covers the password; the epoch lets logout end every session without changing it.
        return salted_hmac(
            "accounts.User.session_auth_hash", f"{self.password}:{self.session_epoch}", secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def password_expired(self, *, now: dt.datetime | None = None) -> bool:
        """Forced by an administrator, or older than PASSWORD_MAX_AGE_DAYS (0 turns rotation off)."""
        if self.must_change_password:
            return True
        days = settings.PASSWORD_MAX_AGE_DAYS
        if not days or self.password_changed_at is None:
            return False
        return (now or timezone.now()) - self.password_changed_at > dt.timedelta(days=days)


class ApiToken(models.Model):
    """An API token. Only its SHA-256 is stored: the key is shown once, when it is issued."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField("令牌摘要", max_length=64, unique=True, editable=False)
    prefix = models.CharField("令牌前缀", max_length=8, editable=False, help_text="令牌的前 8 位，用于辨认")
    name = models.CharField("来源", max_length=200, blank=True)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", db_index=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    created_ip = models.GenericIPAddressField("签发时的客户端地址", null=True, blank=True)
    # Issued against a one-time code: a token issued without one is refused once 2FA applies to its user.
    second_factor = models.BooleanField("经双因素验证签发", default=False, editable=False)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.prefix}…"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", "党委（党组）"
    DISCIPLINE = "discipline", "纪委监委"
    ORGDEPT = "orgdept", "组织部"
    FUNCTIONAL = "functional", "职能部门"
    UNIT = "unit", "单位"


class OrgLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡级"


class Organisation(models.Model):
    """A node of the organisation tree.

    A party committee is the parent of its own organs (discipline commission, organisation
    department, functional departments, units) and of the committees one level below.
    """

    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称（发文字号用）", max_length=20, blank=True)
    kind = models.CharField("类别", max_length=20, choices=OrgKind.choices)
    level = models.CharField("层级", max_length=20, choices=OrgLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    jurisdiction = models.SlugField("适用规则", max_length=40, help_text="适用的容错规则族，如 zhangjiakou、henan")
    managing_committee = models.ForeignKey(
        "self",
        verbose_name="管理党委",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_units",
        help_text="干部管理权限所在的党委（党组）；留空则取最近的上级党委",
    )

    class Meta:
        verbose_name = "组织"
        verbose_name_plural = "组织"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="org_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Organisation]:
        """Parents from the nearest upward, guarded against accidental cycles."""
        chain: list[Organisation] = []
        seen = {self.pk}
        node = self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class PartyKind(models.TextChoices):
    CADRE = "cadre", "干部"
    UNIT = "unit", "单位"


class Person(models.Model):
    """Who a case is about: a cadre (干部, a login is optional) or a unit held accountable (被问责单位).

    A unit party stands for its organisation (``unit``): one accountability matter of one person or
    unit (一事一议). The unit's officers (role ``unit`` there) act for it: they apply, state, appeal.
    """

    kind = models.CharField("当事人类别", max_length=10, choices=PartyKind.choices, default=PartyKind.CADRE)
    name = models.CharField("姓名或单位名称", max_length=100)
    unit = models.ForeignKey(Organisation, verbose_name="所在单位", on_delete=models.PROTECT, related_name="people")
    position = models.CharField("职务", max_length=100, blank=True)
    rank = models.CharField("职级", max_length=50, blank=True)
    managing_committee = models.ForeignKey(
        Organisation,
        verbose_name="管理党委",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_people",
        help_text="留空则按所在单位的干部管理权限确定",
    )
    user = models.OneToOneField(
        User, verbose_name="登录账号", null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )

    class Meta:
        verbose_name = "当事人（干部或单位）"
        verbose_name_plural = "当事人（干部或单位）"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["unit"], condition=models.Q(kind="unit"), name="person_one_party_per_unit"),
            models.CheckConstraint(condition=models.Q(kind="cadre") | models.Q(user__isnull=True),
                                   name="person_unit_party_has_no_login"),
        ]

    def __str__(self) -> str:
        if self.is_unit:
            return f"{self.name}（单位）"
        return f"{self.name}（{self.unit.name}{self.position}）"

    @property
    def is_unit(self) -> bool:
        return self.kind == PartyKind.UNIT


class Role(models.TextChoices):
    INSPECTOR = "inspector", "纪检监察（问责部门）干部"
    COMMITTEE = "committee", "党委（党组）成员"
    ORGDEPT = "orgdept", "组织部门干部"
    CADRE = "cadre", "干部"
    UNIT = "unit", "单位经办人（代干部申请容错）"
    ADMIN = "admin", "系统管理员"
    RULESET_EDITOR = "ruleset_editor", "规则集编辑人员"


class Membership(models.Model):
    """A user's role in one organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    # The head of the department (部门负责人) receives the overdue notices (超期) of its cases.
    is_head = models.BooleanField("部门负责人", default=False, help_text="接收本部门案件的超期提醒和督办通知")

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"
