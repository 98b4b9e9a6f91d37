"""Copy the history chain's head to a keyed anchor and the audit record (Celery beat runs the same)."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from workflow.history import history_anchor


class Command(BaseCommand):
    help = "把操作记录链的当前链头（条数与末条摘要）写入锚点和审计记录。"

    def handle(self, *args: Any, **options: Any) -> None:
        anchor, problem = history_anchor()
        if problem:
            sys.stderr.write(f"已写入锚点 #{anchor.pk}，但{problem}\n")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(
            f"已写入锚点 #{anchor.pk}：{anchor.count} 条，末条摘要 {anchor.last_hash[:16]}…"))
