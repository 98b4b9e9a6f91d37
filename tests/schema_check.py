"""Every API response a test receives is compared with the published OpenAPI schema, so the two cannot drift.

How it works: ``install()`` (called once by ``tests/conftest.py``) wraps Django's test ``Client.request``,
which DRF's ``APIClient`` also goes through. Each response to a path matched by ``CHECKED_PATHS`` is
checked against the schema drf-spectacular publishes at ``/api/schema/`` (generated once per run);
mismatches are collected, and the test that received them fails after it has run, listing them all.

What is checked, for a response whose request path is switched on:
- the path and method must be in the schema, and a 1xx-3xx status must be one the operation lists;
- a JSON body must validate against that status's ``application/json`` schema, read strictly: an
  object the schema describes with ``properties`` may carry no other key (a key the schema misses is
  drift too), ``nullable`` is honoured, ``writeOnly`` properties must not appear, formats are checked;
- a 4xx/5xx status the operation does not list is not checked (the shared error shape of
  ``config.api_errors`` is not in the schema yet); one it lists is.
File downloads (streaming responses) are not read.

Switching it on: ``CHECKED_PATHS`` holds regular expressions matched at the start of the request's
path. Add a prefix once its endpoints' serializers are the schema; there is no per-test skip list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# Paths whose responses are checked, as regular expressions matched at the start of the path.
CHECKED_PATHS: tuple[str, ...] = (
    r"/api/filings/",  # the filing register and its export (reports)
    r"/api/jobs/",  # export jobs (reports)
    r"/api/cases/",  # cases, their actions, findings, evidence, history and documents (workflow, reports)
    r"/api/rulesets/",  # rule sets, their diff, evaluate and compare (rules)
    r"/api/me/",  # accounts
    r"/api/auth/",  # accounts
)

_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def _strict(node: Any) -> Any:
    """An OpenAPI 3.0 schema as strict JSON Schema (2020-12) for validating responses."""
    if not isinstance(node, dict):
        return node
    if node.get("$ref", "").startswith("#/components/schemas/"):
        return {"$ref": node["$ref"]}  # OpenAPI 3.0 ignores a $ref's siblings
    node = dict(node)
    for key in _SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            node[key] = [_strict(sub) for sub in node[key]]
    for key in _SCHEMA_VALUES:
        if isinstance(node.get(key), dict):
            node[key] = _strict(node[key])
    properties = node.get("properties")
    if isinstance(properties, dict):
        # writeOnly properties are never sent in a response: left undeclared, they count as extra keys.
        write_only = {name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("writeOnly")}
        node["properties"] = {name: _strict(prop) for name, prop in properties.items() if name not in write_only}
        node["required"] = [name for name in node.get("required", []) if name not in write_only]
        # Closed objects: a key the schema does not list is drift, the very thing this check is for.
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _deepest(error: Any) -> Any:
    """Under "not valid under any of the given schemas" (a nullable object), the error that says why."""
    from jsonschema.exceptions import best_match

    while error.context:
        # The null branch of a nullable value explains nothing when the value is not null.
        useful = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        error = best_match(useful or error.context)
    return error


def _route(template: str) -> re.Pattern[str]:
    pattern = "".join(
        "[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}]+\})", template)
    )
    return re.compile(f"^{pattern}$")


class SchemaChecker:
    """Compares responses with one OpenAPI document; ``check`` returns the mismatches of one response."""

    def __init__(self, schema: dict[str, Any], *, checked_paths: tuple[str, ...] = CHECKED_PATHS) -> None:
        from jsonschema import Draft202012Validator

        self._validator_class = Draft202012Validator
        components = schema.get("components", {}).get("schemas", {})
        self._components = {"schemas": {name: _strict(sub) for name, sub in components.items()}}
        self._paths = schema.get("paths", {})
        # A literal segment wins over a parameter (/rulesets/compare/ before /rulesets/{ruleset_id}/).
        self._routes = sorted(((_route(t), t) for t in self._paths), key=lambda rt: (rt[1].count("{"), -len(rt[1])))
        self._checked = [re.compile(p) for p in checked_paths]

    def checks(self, path: str) -> bool:
        return any(p.match(path) for p in self._checked)

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes | None) -> list[str]:
        where = f"{method.upper()} {path} -> {status}"
        template = next((t for rx, t in self._routes if rx.match(path)), None)
        operation = self._paths.get(template, {}).get(method.lower()) if template else None
        if operation is None:
            return [] if status >= 400 else [f"{where}: no such operation in the schema"]
        responses = operation.get("responses", {})
        documented = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
        if documented is None:
            if status >= 400:
                return []
            return [f"{where}: the schema lists only {sorted(responses)} for {method.upper()} {template}"]
        if body is None:  # a streamed file
            return []
        is_json = content_type.split(";")[0].strip().endswith("json")
        media = documented.get("content", {})
        if not is_json:
            return [] if media or not body else [f"{where}: the schema documents no body, got {content_type}"]
        schema = media.get("application/json", {}).get("schema")
        if schema is None:
            return [f"{where}: JSON body, but the schema documents {sorted(media) or 'no body'}"]
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [f"{where}: body is not JSON ({exc})"]
        validator = self._validator_class(
            {**_strict(schema), "components": self._components},
            format_checker=self._validator_class.FORMAT_CHECKER,
        )
        errors = sorted((_deepest(e) for e in validator.iter_errors(data)), key=lambda e: list(e.absolute_path))
        return [f"{where} at {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}" for e in errors[:5]]


class _State:
    checker: SchemaChecker | None = None
    mismatches: list[str] = []  # replaced, never appended to across tests: see reset() and take()


def _checker() -> SchemaChecker:
    if _State.checker is None:
        from drf_spectacular.generators import SchemaGenerator

        # The same document /api/schema/ serves.
        _State.checker = SchemaChecker(SchemaGenerator().get_schema(request=None, public=True))
    return _State.checker


def _record(response: Any) -> None:
    environ = getattr(response, "request", None) or {}
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/api/"):
        return
    checker = _checker()
    if not checker.checks(path):
        return
    body = None if getattr(response, "streaming", False) else response.content
    _State.mismatches += checker.check(
        environ.get("REQUEST_METHOD", "GET"), path, response.status_code, response.get("Content-Type", ""), body
    )


def install() -> None:
    """Wrap the test client once per process, so every client in every test is checked."""
    from django.test.client import Client

    original: Callable[..., Any] = Client.request
    if getattr(original, "schema_checked", False):
        return

    def request(self: Client, **request: Any) -> Any:
        response = original(self, **request)
        _record(response)
        return response

    request.schema_checked = True  # type: ignore[attr-defined]
    Client.request = request  # type: ignore[method-assign]


def reset() -> None:
    _State.mismatches = []


def take() -> list[str]:
    """The mismatches collected since ``reset``, and start afresh."""
    found, _State.mismatches = _State.mismatches, []
    return found
