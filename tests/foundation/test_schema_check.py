"""The schema check itself: what it calls a mismatch, and what it leaves alone."""

from __future__ import annotations

import json

from tests.schema_check import SchemaChecker

SCHEMA = {
    "paths": {
        "/api/things/{id}/": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
        "/api/things/{id}/file/": {"get": {"responses": {"200": {"content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}}},
    },
    "components": {"schemas": {
        "Thing": {"type": "object", "required": ["id", "owner", "at"], "properties": {
            "id": {"type": "integer"},
            "owner": {"allOf": [{"$ref": "#/components/schemas/Owner"}], "nullable": True},
            "at": {"type": "string", "format": "date"},
            "secret": {"type": "string", "writeOnly": True},
        }},
        "Owner": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    }},
}


def check(body, *, path="/api/things/1/", status=200, content_type="application/json"):
    checker = SchemaChecker(SCHEMA, checked_paths=(r"/api/things/",))
    raw = json.dumps(body).encode() if not isinstance(body, bytes | None) else body
    return checker.check("GET", path, status, content_type, raw)


def test_a_response_that_matches_passes_with_nullable_references():
    assert check({"id": 1, "owner": None, "at": "2026-01-31"}) == []
    assert check({"id": 1, "owner": {"name": "甲"}, "at": "2026-01-31"}) == []


def test_a_missing_key_an_extra_key_a_wrong_type_and_a_bad_date_are_mismatches():
    assert "'at' is a required property" in check({"id": 1, "owner": None})[0]
    assert "Additional properties" in check({"id": 1, "owner": None, "at": "2026-01-31", "extra": 1})[0]
    assert "at owner/name" in check({"id": 1, "owner": {"name": 3}, "at": "2026-01-31"})[0]
    assert "is not a 'date'" in check({"id": 1, "owner": None, "at": "yesterday"})[0]


def test_write_only_properties_must_not_appear_in_a_response():
    assert check({"id": 1, "owner": None, "at": "2026-01-31", "secret": "x"})


def test_undocumented_success_is_a_mismatch_but_undocumented_errors_are_left_alone():
    assert "lists only ['200']" in check({"id": 1}, status=201)[0]
    assert check({"detail": "未找到"}, status=404) == []
    assert check({"detail": "未找到"}, path="/api/nothing-here/", status=404) == []
    assert "no such operation" in check({}, path="/api/things/1/unknown/")[0]


def test_streamed_files_are_not_read_and_json_where_a_file_is_documented_is_a_mismatch():
    assert check(None, path="/api/things/1/file/", content_type="application/pdf") == []
    assert "documents ['application/octet-stream']" in check({"id": 1}, path="/api/things/1/file/")[0]


def test_only_switched_on_paths_are_checked():
    checker = SchemaChecker(SCHEMA, checked_paths=(r"/api/things/\d+/file/",))
    assert checker.checks("/api/things/1/file/") and not checker.checks("/api/things/1/")
