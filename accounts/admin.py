"""Admin for users, organisations, persons and memberships."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Membership, Organisation, Person, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class TolUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("容错纠错", {"fields": ("full_name",)}))
    list_display = ("username", "full_name", "is_superuser", "is_active")
    inlines = [MembershipInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "level", "parent", "jurisdiction")
    list_filter = ("kind", "level", "jurisdiction")
    search_fields = ("name",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "position", "rank", "user")
    search_fields = ("name",)
    list_select_related = ("unit", "user")
