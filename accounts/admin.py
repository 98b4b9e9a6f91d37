"""Admin for users, organisations, persons and memberships."""

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken, Membership, Organisation, OrgKind, Person, User
from .services import unit_party_ensure, users_force_password_reset, users_two_factor_reset

# django-otp's own device admins would let an administrator read or plant a user's secret. The one door
# here is the reset action on the user list (the user enrols again, on their own phone).
for _model in (TOTPDevice, StaticDevice):
    try:
        admin.site.unregister(_model)
    except NotRegistered:
        pass


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class TolUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("容错纠错", {"fields": ("full_name", "notice_digest")}),
                 ("密码策略", {"fields": ("password_changed_at", "must_change_password")}))
    readonly_fields = ("password_changed_at", "must_change_password")
    list_display = ("username", "full_name", "is_superuser", "is_active", "password_changed_at",
                    "must_change_password", "two_factor")
    inlines = [MembershipInline]
    actions = ["force_password_reset", "two_factor_reset"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_totp=Exists(enrolled))

    @admin.display(description="双因素认证", boolean=True, ordering="has_totp")
    def two_factor(self, obj: User) -> bool:
        return bool(getattr(obj, "has_totp", False))

    @admin.action(description="重置双因素认证（删除验证器和恢复码，现有会话和 API 令牌立即失效，下次登录重新设置）")
    def two_factor_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = users_two_factor_reset(users=list(queryset), request=request)
        self.message_user(request, f"已重置 {count} 个用户的双因素认证；其现有会话和 API 令牌已失效。", messages.SUCCESS)

    @admin.action(description="强制重置密码（下次使用时必须修改，现有会话和 API 令牌立即失效）")
    def force_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = users_force_password_reset(users=list(queryset))
        self.message_user(request, f"已强制 {count} 个用户修改密码；其现有会话和 API 令牌已失效。", messages.SUCCESS)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "level", "parent", "jurisdiction")
    list_filter = ("kind", "level", "jurisdiction")
    search_fields = ("name",)
    actions = ["make_unit_parties"]

    @admin.action(description="建立被问责单位当事人（单位本身被问责时可作为案件当事人）")
    def make_unit_parties(self, request: HttpRequest, queryset: QuerySet[Organisation]) -> None:
        # Only units and functional departments: a committee or its organs never decide on themselves.
        eligible = list(queryset.filter(kind__in=[OrgKind.UNIT, OrgKind.FUNCTIONAL]))
        skipped = queryset.count() - len(eligible)
        with transaction.atomic():
            for org in eligible:
                unit_party_ensure(org)
        self.message_user(request, f"已为 {len(eligible)} 个组织建立被问责单位当事人。", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} 个党委（党组）、纪检监察机关或组织部门未建立：它们不作为被问责单位。",
                              messages.WARNING)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "unit", "position", "rank", "user")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("unit", "user")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see and revoke (delete) any token; a key is never shown again, nor issued here."""

    list_display = ("user", "prefix", "name", "created_at", "expires_at", "last_used_at", "created_ip")
    list_filter = ("expires_at",)
    search_fields = ("user__username", "prefix")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "name", "created_at", "expires_at", "last_used_at", "created_ip")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description="撤销所选令牌", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count, _ = queryset.delete()
        self.message_user(request, f"已撤销 {count} 个令牌。", messages.SUCCESS)
