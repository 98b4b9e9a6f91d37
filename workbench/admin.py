"""Published versions are records: administrators read them; only approval in the workbench writes one."""

from django.contrib import admin

from accounts.admin_base import RecordAdmin
from workbench.models import PublishedVersion


@admin.register(PublishedVersion)
class PublishedVersionAdmin(RecordAdmin):
    list_display = ("ruleset_id", "version_label", "organisation", "content_hash", "published_by", "published_at")
    search_fields = ("ruleset_id", "version_label", "content_hash")
