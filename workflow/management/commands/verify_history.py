"""Walk the hash-chained history and report the first broken link."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from workflow.history import history_verify


class Command(BaseCommand):
    help = "校验操作记录哈希链，报告第一处断裂。"

    def handle(self, *args: Any, **options: Any) -> None:
        report = history_verify()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"操作记录完整：共校验 {report.checked} 条。"))
            return
        sys.stderr.write(f"操作记录链断裂：{report.problem}（此前 {report.checked} 条完好）\n")
        sys.exit(1)
