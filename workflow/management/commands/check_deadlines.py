"""Run the deadline check once (Celery beat runs the same task; cron can run this command)."""

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflow.services.notices import notices_deliver, notices_digest_send
from workflow.services.reminders import deadlines_check


class Command(BaseCommand):
    help = "检查办理期限：期限届满前催办承办人，超期提醒部门负责人，超期后再报上一级纪委监委督办；每步每个环节只执行一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="按此日期检查（YYYY-MM-DD，默认今天）")
        parser.add_argument("--digest", action="store_true", help="同时发送通知邮件每日汇总")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options.get("date"):
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                sys.stderr.write(f"--date 的值 {options['date']!r} 无效：应为 YYYY-MM-DD。\n")
                sys.exit(2)
        taken = deadlines_check(today=today)
        mailed = notices_deliver()
        digests = notices_digest_send() if options.get("digest") else 0
        self.stdout.write(self.style.SUCCESS(
            f"期限检查完成：催办 {taken['reminder']} 件，超期提醒 {taken['overdue']} 件，超期督办 {taken['escalation']} 件；"
            f"回访催办 {taken['visit_reminder']} 件，回访超期 {taken['visit_overdue']} 件，回访督办 {taken['visit_escalation']} 件；"
            f"发送通知邮件 {mailed} 封" + (f"，每日汇总 {digests} 封" if options.get("digest") else "") + "。"))
