"""YAML reading for rule files: safe parsing that remembers the line of every mapping and key.

Owns ``Node`` (a dict with line numbers) and ``parse_yaml``; everything that reports
``file:line: problem`` about a rule file gets its line numbers from here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from rules.errors import RuleFileProblem, RuleSetLoadError


class Node(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Node:
    result = Node()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | dt.date) or key is None:
            raise yaml.constructor.ConstructorError(None, None, "键必须是字符串", key_node.start_mark)
        key = str(key)
        # PyYAML silently keeps the last of two equal keys; in a rule file that hides a typo.
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"重复的键 {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# YAML 1.2 booleans: only true/false. Rule files write answers as ``yes``/``no`` and mean the words.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str, path: str) -> Any:
    """Parse YAML text; a syntax error becomes a RuleSetLoadError naming file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "YAML 语法错误"
        raise RuleSetLoadError([RuleFileProblem(path, line, f"YAML 语法错误：{problem}")]) from None
    except yaml.YAMLError as exc:
        raise RuleSetLoadError([RuleFileProblem(path, None, f"YAML 语法错误：{exc}")]) from None
