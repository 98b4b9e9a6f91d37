"""Walk the keyed history chain, compare it with every anchor, and report the first break in one line."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from rules.dates import cn_datetime
from workflow.history import history_verify


class Command(BaseCommand):
    help = "校验操作记录链（HMAC-SM3）并与锚点比对，报告第一处断裂。"

    def handle(self, *args: Any, **options: Any) -> None:
        report = history_verify()
        if report.ok:
            anchor = report.latest_anchor
            anchored = (f"与 {report.anchors} 个锚点相符（最近 {cn_datetime(anchor.at)}，"
                        f"{anchor.count} 条）" if anchor is not None else "尚无锚点（请运行 anchor_history）")
            self.stdout.write(self.style.SUCCESS(f"操作记录完整：共校验 {report.checked} 条，{anchored}。"))
            return
        done = f"；此前 {report.checked} 条完好" if report.checked else ""
        sys.stderr.write(f"操作记录链断裂：{report.problem}{done}\n")
        sys.exit(1)
