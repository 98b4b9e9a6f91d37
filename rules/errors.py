"""Errors raised by the rule-set loader and the engine; every message is one Chinese line."""

from __future__ import annotations


class RuleError(Exception):
    """Base class: ``str(exc)`` is a one-line Chinese message naming the offender."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownRuleSetError(RuleError):
    def __init__(self, ruleset_id: str) -> None:
        super().__init__(f"未知的规则集：{ruleset_id}")
        self.ruleset_id = ruleset_id


class UnknownVersionError(RuleError):
    def __init__(self, ruleset_id: str, version: str) -> None:
        super().__init__(f"规则集 {ruleset_id} 没有版本 {version}")
        self.ruleset_id = ruleset_id
        self.version = version


def _cn(value: object) -> str:
    import datetime as dt

    from rules.dates import cn_date

    return cn_date(value) if isinstance(value, dt.date) else str(value)


def _named(ruleset_id: str, title: str) -> str:
    """How a message names a rule set to people: its title when known (the id stays on the exception)."""
    return f"《{title}》" if title else f"规则集 {ruleset_id} "


class DateBeforeFirstVersionError(RuleError):
    def __init__(self, ruleset_id: str, on_date: object, first: object, note: str = "", *, title: str = "") -> None:
        extra = f"（{note}）" if note else ""
        super().__init__(
            f"日期 {_cn(on_date)} 早于{_named(ruleset_id, title)}的第一个收录版本（{_cn(first)} 起施行），无可适用的版本{extra}"
        )
        self.ruleset_id = ruleset_id


class NoVersionInForceError(RuleError):
    def __init__(self, ruleset_id: str, on_date: object, *, title: str = "") -> None:
        super().__init__(f"日期 {_cn(on_date)} 不在{_named(ruleset_id, title)}任何版本的施行期间内")
        self.ruleset_id = ruleset_id


class InvalidDateError(RuleError):
    def __init__(self, value: object, field: str = "日期") -> None:
        super().__init__(f"{field}格式错误：{value!r}，应为 YYYY-MM-DD")
        self.value = value
        self.field = field


class PinMismatchError(RuleError):
    """A stored evaluation's content hash no longer matches the rule file on disk."""

    def __init__(self, ruleset_id: str, version: str, expected: str, actual: str) -> None:
        super().__init__(
            f"规则集 {ruleset_id} 版本 {version} 的内容已改变（记录的哈希 {expected[:12]}…，"
            f"当前 {actual[:12]}…），请使用当时保存的规则快照复核"
        )
        self.expected = expected
        self.actual = actual


class FindingError(RuleError):
    """A finding names an unknown clause, has a bad status or lacks a required reason."""

    def __init__(self, clause_id: str, message: str) -> None:
        super().__init__(message)
        self.clause_id = clause_id


class FactError(RuleError):
    """A fact handed to the engine (loss amount, disposition, earlier cases) is malformed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RuleFileProblem:
    """One problem in one rule file, located to a line."""

    __slots__ = ("path", "line", "problem")

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.problem}"

    def __repr__(self) -> str:
        return f"RuleFileProblem({str(self)!r})"


class RuleSetLoadError(RuleError):
    """One or more rule files are malformed; ``problems`` lists every one with file and line."""

    def __init__(self, problems: list[RuleFileProblem]) -> None:
        first = str(problems[0]) if problems else "规则文件无效"
        more = f"（另有 {len(problems) - 1} 个问题）" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")
        self.problems = problems
