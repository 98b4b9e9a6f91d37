"""Reads of the workbench, scoped to the organisations where the user is a rule-set editor, and the
published versions as the rule registry's source."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, QuerySet

from accounts.models import User
from rules.registry import PublishedText
from workbench.models import Draft, PublishedVersion
from workbench.permissions import editor_org_ids


def drafts_for(user: User) -> QuerySet[Draft]:
    return Draft.objects.filter(organisation_id__in=editor_org_ids(user)).select_related("organisation")


def draft_for(user: User, pk: int) -> Draft | None:
    return drafts_for(user).filter(pk=pk).first()


def published_texts() -> list[PublishedText]:
    return [
        PublishedText(name=f"published/{p.ruleset_id}-{p.version_label}", text=p.yaml_text,
                      content_hash=p.content_hash, replaces=p.replaces)
        for p in PublishedVersion.objects.order_by("id")
    ]


class DatabaseSource:
    """The published versions, served by ``rules.registry.registry()`` beside the shipped files.

    Off when ``RULES_FROM_DATABASE`` is false (the tests of the pure engine run without a database)."""

    def stamp(self) -> object:
        if not settings.RULES_FROM_DATABASE:
            return None
        try:
            with transaction.atomic():
                return tuple(PublishedVersion.objects.aggregate(n=Count("id"), last=Max("id")).values())
        except DatabaseError:  # before ``migrate`` has created the table: the files alone
            return None

    def texts(self) -> list[PublishedText]:
        if not settings.RULES_FROM_DATABASE:
            return []
        try:
            with transaction.atomic():  # a failed query must not break the caller's transaction
                return published_texts()
        except DatabaseError:
            return []
