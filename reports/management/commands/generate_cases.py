"""Fill the database with realistic synthetic cases for load tests and statistics (see ``reports.synthetic``)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cases.models import Case
from reports.synthetic import GEN_PREFIX, GenerationRefused, cases_generate, foreign_cases_exist
from reports.tally import tally_rebuild

MAX_COUNT = 5_000_000


class Command(BaseCommand):
    help = ("生成合成案件数据（多省组织树、干部、各状态各规则的案件及其认定、决定、申诉、文书登记、通知和操作记录链），"
            "用于性能测试和统计分析。同一种子、同一截止日期生成的数据相同。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=str, required=True, help="生成的案件数")
        parser.add_argument("--seed", type=str, default="1", help="随机种子（整数，默认 1）")
        parser.add_argument("--end", type=str, default="", help="最晚日期 YYYY-MM-DD（默认今天，不能晚于今天）")
        parser.add_argument("--years", type=str, default="5", help="案件分布的年数（1–10，默认 5）")
        parser.add_argument("--batch", type=str, default="",
                            help="每批写入的案件数（默认 2000，生成至少 50,000 件时 5000）")
        parser.add_argument("--bulk", action=argparse.BooleanOptionalAction, default=None,
                            help="整批装载（仅 PostgreSQL）：全部写入一个事务，期间先移除这些表的二级索引和约束，"
                                 "写完按原定义重建；失败则全部回滚。默认在生成至少 50,000 件且不少于库中已有案件数时使用")
        parser.add_argument("--force", "--allow-existing", action="store_true", dest="force",
                            help="数据库中已有非生成的案件时仍然写入")

    def _fail(self, message: str) -> None:
        self.stderr.write(f"generate_cases：{message}")
        sys.exit(1)

    def _int(self, options: dict[str, Any], name: str, lo: int, hi: int) -> int:
        text = str(options[name]).strip().replace("_", "").replace(",", "")
        if not (text.isascii() and text.lstrip("-").isdigit()):
            self._fail(f"--{name} 应为整数，收到“{options[name]}”。")
        value = int(text)
        if not lo <= value <= hi:
            self._fail(f"--{name} 应在 {lo:,} 到 {hi:,} 之间，收到 {value:,}。")
        return value

    def handle(self, *args: Any, **options: Any) -> None:
        count = self._int(options, "count", 1, MAX_COUNT)
        seed = self._int(options, "seed", 0, 2**31 - 1)
        years = self._int(options, "years", 1, 10)
        if not str(options["batch"]).strip():
            options["batch"] = "5000" if count >= 50_000 else "2000"
        batch = self._int(options, "batch", 100, 20_000)
        today = timezone.localdate()
        end = today
        if options["end"]:
            try:
                end = dt.date.fromisoformat(options["end"])
            except ValueError:
                self._fail(f"--end 日期格式应为 YYYY-MM-DD，收到“{options['end']}”。")
            if end > today:
                self._fail(f"--end 不能晚于今天（{today.isoformat()}）：生成的日期不得在未来。")
        if not options["force"] and foreign_cases_exist():
            self._fail("数据库中已有非生成的案件（真实或演示数据），拒绝写入；确需写入请加 --force。")
        if Case.objects.filter(submission_key__startswith=f"{GEN_PREFIX}{seed}-").exists():
            self._fail(f"种子 {seed} 的案件已经生成过，请换一个 --seed。")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            self.stdout.write(f"  已生成 {done:,} / {total:,} 件（{elapsed:.1f} 秒）")

        try:
            rows = cases_generate(count=count, seed=seed, end=end, years=years, batch=batch, progress=progress,
                                  bulk=options["bulk"], report=lambda line: self.stdout.write(f"  {line}"))
        except GenerationRefused as exc:
            self._fail(str(exc))
        elapsed = time.monotonic() - started
        # Bulk rows bypass the marks that keep the dashboard's summary table exact: rebuild it once.
        summary_started = time.monotonic()
        summary_rows = tally_rebuild()
        self.stdout.write(f"  统计汇总表已重算：{summary_rows:,} 行（{time.monotonic() - summary_started:.1f} 秒）")
        self.stdout.write(self.style.SUCCESS(
            f"已生成 {count:,} 件案件，共写入 {rows:,} 行，用时 {elapsed:.1f} 秒（种子 {seed}，截止 {end.isoformat()}）。"))
