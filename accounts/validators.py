"""Password rules of 等保 2.0 level 3 that Django's own validators do not cover (Chinese messages)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.password_validation import MinimumLengthValidator as DjangoMinimumLengthValidator
from django.core.exceptions import ValidationError

CLASSES = (
    ("大写字母", re.compile(r"[A-Z]")),
    ("小写字母", re.compile(r"[a-z]")),
    ("数字", re.compile(r"[0-9]")),
    ("特殊字符", re.compile(r"[^A-Za-z0-9]")),
)
# One word then one number ("Cadre2026", "Password1"): three classes on paper, guessed first in practice.
WORD_THEN_NUMBER = re.compile(r"^[A-Za-z]+[0-9]+$|^[0-9]+[A-Za-z]+$")


class ComplexityValidator:
    """At least ``min_classes`` of the four character classes, not a bare word plus a number,
    no username inside, and at most ``max_length`` characters."""

    def __init__(self, min_classes: int = 3, max_length: int = 128) -> None:
        self.min_classes = min_classes
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        errors = []
        present = sum(1 for _, pattern in CLASSES if pattern.search(password))
        if present < self.min_classes:
            errors.append(ValidationError(
                f"密码须包含大写字母、小写字母、数字、特殊字符中的至少 {self.min_classes} 类。",
                code="password_too_simple"))
        elif WORD_THEN_NUMBER.match(password):
            errors.append(ValidationError(
                "密码不能是“一个单词加一串数字”的简单组合（如 Abcde2026），请加入特殊字符或打乱组合。",
                code="password_word_number"))
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and username in password.lower():
            errors.append(ValidationError("密码不能包含用户名。", code="password_contains_username"))
        if len(password) > self.max_length:
            errors.append(ValidationError(f"密码不能超过 {self.max_length} 个字符。", code="password_too_long"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return (f"须包含大写字母、小写字母、数字、特殊字符中的至少 {self.min_classes} 类，"
                "不能是单词加数字的简单组合，不能包含用户名。")


class MinimumLengthValidator(DjangoMinimumLengthValidator):
    """Django's length rule with a Chinese message (Django 5.2's zh-hans catalogue lacks this string)."""

    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"至少 {self.min_length} 个字符（最多 128 个）。"
