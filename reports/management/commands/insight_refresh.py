"""Rebuild the statistics' summary table from the case table (after a bulk load), or check and repair it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from reports.tally import tally_check, tally_rebuild


class Command(BaseCommand):
    help = "重算统计汇总表（统计分析所用）：默认全部重算；--check 只重算案件数不符的月份。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="只核对并重算不一致的月份")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["check"]:
            months = tally_check()
            self.stdout.write(f"核对完成，重算 {len(months)} 个月份（{time.monotonic() - started:.1f} 秒）。")
            return
        rows = tally_rebuild()
        self.stdout.write(self.style.SUCCESS(f"统计汇总表已重算：{rows:,} 行，用时 {time.monotonic() - started:.1f} 秒。"))
