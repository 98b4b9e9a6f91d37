"""Facade kept so ``from rules.loader import ...`` keeps working; the code lives in one module per concern.

- ``rules.yamlread``: YAML parsing with line numbers (``parse_yaml``, ``Node``).
- ``rules.dates``: ``to_date`` for ``YYYY-MM-DD`` values.
- ``rules.filecheck``: one rule file's schema (``FileChecker``), every problem as ``file:line``.
- ``rules.registry``: the directory as a whole, lookups, ``load_registry``, ``check_directory``,
  the cached ``registry()``.
- ``rules.snapshot``: ``version_from_snapshot`` (re-running a pinned version).
"""

from __future__ import annotations

from rules.dates import to_date
from rules.filecheck import QUESTIONS_FILE, FileChecker
from rules.registry import (
    RULESETS_DIR,
    Registry,
    check_directory,
    load_questions,
    load_registry,
    registry,
)
from rules.snapshot import version_from_snapshot
from rules.yamlread import Node, parse_yaml

__all__ = [
    "QUESTIONS_FILE",
    "RULESETS_DIR",
    "FileChecker",
    "Node",
    "Registry",
    "check_directory",
    "load_questions",
    "load_registry",
    "parse_yaml",
    "registry",
    "to_date",
    "version_from_snapshot",
]
