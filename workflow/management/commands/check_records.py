"""List records that break the procedure's rules (dates out of order and the like); exit 1 if any."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from workflow.records_check import record_problems


class Command(BaseCommand):
    help = "检查全部案件记录：日期顺序、会商与决定的先后、申诉复核结果与结论是否一致、遗留的待办；发现问题时逐行列出并以 1 退出。"

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        cases: set[int] = set()
        for case, problem in record_problems():
            count += 1
            cases.add(case.pk)
            sys.stdout.write(f"{case.reference}（#{case.pk}）：{problem}\n")
        if count:
            sys.stderr.write(f"发现 {count} 处问题，涉及 {len(cases)} 件案件。\n")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("全部案件记录均符合程序顺序。"))
