"""Create the demo world: organisations, cadres, logins and demo cases. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Case
from workflow.management.demo.cases import demo_cases_seed
from workflow.management.demo.followup import demo_followup_seed
from workflow.management.demo.world import DEMO_LOGINS, demo_world_seed


class Command(BaseCommand):
    help = "创建演示数据（组织、干部、登录账号与演示案件），可重复运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="所有演示账号的密码（默认随机生成并打印一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options.get("password")
        if password is not None and len(password) < 8:
            raise CommandError("--password 至少 8 位")
        try:
            world = demo_world_seed(password=password)
        except ValidationError as exc:
            raise CommandError("--password 不符合密码规则：" + "".join(exc.messages)) from None
        created = demo_cases_seed(world=world)
        self.stdout.write(f"演示案件：新建 {created} 件（共 {Case.objects.count()} 件）")
        demo_followup_seed(world=world)  # 回访记录、澄清正名（应容未容问题随决定自动记录）
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。登录账号："))
        width = max(len(username) for username, _ in DEMO_LOGINS)
        for username, description in DEMO_LOGINS:
            self.stdout.write(f"  {username:<{width}} {description}")
        if world.generated:
            self.stdout.write(f"  密码（仅显示这一次）：{world.password}")
        else:
            self.stdout.write("  密码：--password 所给的密码")
