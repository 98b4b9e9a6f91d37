"""Admin: documents and exports are read-only records; changes go through the services."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_base import RecordAdmin

from .models import Document, DocumentNumber, ExportJob


@admin.register(Document)
class DocumentAdmin(RecordAdmin):
    list_display = ("id", "case", "kind", "number", "version", "status", "superseded", "created_at")
    list_filter = ("kind", "status", "superseded")
    search_fields = ("number", "sha256", "case__title", "case__subject__name")
    list_select_related = ("case",)


@admin.register(DocumentNumber)
class DocumentNumberAdmin(RecordAdmin):
    list_display = ("organisation", "year", "last")


@admin.register(ExportJob)
class ExportJobAdmin(RecordAdmin):
    list_display = ("id", "requested_by", "date_from", "date_to", "status", "progress", "created_at")
    list_filter = ("status",)
