"""Re-run every decision's evaluation under its pinned rule-set snapshot."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from workflow.models import Decision
from workflow.selectors import decision_reproduce


class Command(BaseCommand):
    help = "按决定时锁定的规则版本快照重新评估每一项决定，报告不能复现者。"

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        total = 0
        for decision in Decision.objects.order_by("id").iterator():
            total += 1
            ok, message = decision_reproduce(decision)
            if not ok:
                failures += 1
                sys.stderr.write(message + "\n")
        if failures:
            sys.stderr.write(f"{failures}/{total} 项决定不能复现。\n")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"全部 {total} 项决定均可按当时的规则版本复现。"))
