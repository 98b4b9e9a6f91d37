"""Admin: documents and exports are read-only records; changes go through the services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Document, DocumentNumber, ExportJob


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "kind", "number", "version", "status", "superseded", "created_at")
    list_filter = ("kind", "status", "superseded")
    search_fields = ("number", "sha256", "case__title", "case__subject__name")
    list_select_related = ("case",)


@admin.register(DocumentNumber)
class DocumentNumberAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "year", "last")


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "requested_by", "date_from", "date_to", "status", "progress", "created_at")
    list_filter = ("status",)
