"""``manage.py evaluate_case --ruleset ID [--date YYYY-MM-DD] --facts FILE [--format json|text]``.

Bad input (unknown rule set or clause, bad status, bad date) exits 2 with a one-line message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from rules.errors import RuleError
from rules.inputs import render_text, split_payload
from rules.temporal import evaluate


def _fail(message: str) -> None:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    sys.exit(2)


class Command(BaseCommand):
    help = "按规则集评估一个案件的认定，输出结论、理由与逐条轨迹"
    # Pure command: it must answer (and exit 2 on bad input) even while other apps' checks fail.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--ruleset", required=True, help="规则集 id，如 zhangjiakou")
        parser.add_argument("--date", help="行为发生日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--decision-date", help="决定日期 YYYY-MM-DD；给出时按从旧兼从轻比较新旧版本")
        parser.add_argument("--facts", required=True, help="JSON 文件（- 表示标准输入）")
        parser.add_argument("--format", choices=("json", "text"), default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["facts"]
        try:
            raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"无法读取事实文件 {source}：{exc.strerror}")
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError as exc:
            _fail(f"事实文件 {source} 不是有效的 JSON：第 {exc.lineno} 行 {exc.msg}")
        conduct = options["date"] or timezone.localdate().isoformat()
        try:
            findings, facts, answers = split_payload(payload)
            ev = evaluate(
                options["ruleset"],
                findings,
                conduct,
                facts=facts,
                answers=answers,
                decision_date=options["decision_date"],
            )
        except RuleError as exc:
            _fail(str(exc))
        if options["format"] == "text":
            self.stdout.write(render_text(ev))
        else:
            self.stdout.write(json.dumps(ev.to_dict(), ensure_ascii=False, indent=2))
