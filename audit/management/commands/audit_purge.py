"""Delete audit records older than a cut-off; refuses anything inside the retention period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.services import RetentionError, audit_purge
from rules.dates import cn_datetime


class Command(BaseCommand):
    help = "清理保存期满的审计记录（至少保存 AUDIT_RETENTION_DAYS 天，不少于 183 天）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="清理此日期（YYYY-MM-DD，含当天 0 时之前）之前的记录")
        parser.add_argument("--older-than-days", type=int, help="清理早于若干天前的记录")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("before"):
            try:
                day = dt.date.fromisoformat(options["before"])
            except ValueError:
                raise CommandError("--before 日期格式无效，应为 YYYY-MM-DD") from None
            cutoff = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
        elif options.get("older_than_days") is not None:
            cutoff = timezone.now() - dt.timedelta(days=options["older_than_days"])
        else:
            cutoff = timezone.now() - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
        try:
            deleted = audit_purge(before=cutoff)
        except RetentionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"已清理 {cn_datetime(cutoff)} 之前的审计记录 {deleted} 条。"))
