"""``manage.py check_rulesets``: validate every rule file; exit 1 listing file:line: problem."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from rules.registry import RULESETS_DIR, check_directory, load_registry


class Command(BaseCommand):
    help = "校验 rules/rulesets/ 下的全部规则文件"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", default=str(RULESETS_DIR), help="规则文件目录（默认 rules/rulesets）")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = check_directory(options["dir"])
        if problems:
            for problem in problems:
                sys.stderr.write(f"{problem}\n")
            sys.exit(1)
        reg = load_registry(options["dir"])
        for family in reg.families():
            for v in family.versions:
                self.stdout.write(f"{v.id}@{v.version}\t{len(v.clauses)} 条\t{v.content_hash}")
        self.stdout.write(self.style.SUCCESS("规则文件全部有效"))
