"""Django system check: every rule file parses and validates (``manage.py check`` names file:line)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from rules.registry import check_directory


@register("rules")
def check_rulesets(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [
        Error(str(problem), hint="修正该规则文件后重新运行 manage.py check_rulesets", id="rules.E001")
        for problem in check_directory()
    ]
