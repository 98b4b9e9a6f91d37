"""Schemathesis against the API the app publishes: no input is a 500, and a case stays hidden from outsiders.

The schema is the one ``/api/schema/`` serves. Every operation in it is called through the real WSGI
application (every middleware included) by cases Schemathesis generates from it, valid and invalid,
signed in as the inspector who handles the cases of a small demo world. Each call runs in a savepoint
that is rolled back afterwards, so every generated request meets the same world and one request's
effects (a revoked token, a withdrawn case) never hide what the next one would have found.

Checked on every response: no 5xx. On a 2xx: the status, content type and body are the ones the schema
documents. (Errors share ``config.api_errors``' shape, which the schema does not list yet: a 4xx is only
checked for being a 4xx.) PostgreSQL refuses a NUL byte in text with a 500 where SQLite stores it, so
on SQLite the database layer is made to refuse it the same way.

The object-level check: every GET operation under ``/api/cases/{case_id}/``, with ids of objects that
exist, answers 200 to the inspector and 404 to users who may not see the case (an inspector of another
jurisdiction, a cadre who is no party to it), whatever else the request carries.

Generation is derandomized (the same cases on every run) and bounded per operation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

# Examples per operation and generation mode (valid and invalid): with any ids in the path, and with the
# ids of objects that exist. Bounded so the whole run stays well under two minutes.
EXAMPLES_ANY_IDS = 8
EXAMPLES = 15
EXAMPLES_AS_OUTSIDER = 4
USER_A = "inspector"
OUTSIDERS = ("inspector2", "cadre2")  # another jurisdiction; the same unit as the subject, but no party

SUCCESS_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                  response_schema_conformance]


# --- the application and its schema ----------------------------------------------------------------


@pytest.fixture
def wsgi_app(settings) -> Iterator[Any]:
    """The project's WSGI application, inside the test's transaction.

    Django closes the database connection at the start and end of each request; inside a test that
    would end the test's transaction, so, as Django's own test client does, that is switched off.
    """
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # Schemathesis' WSGI host
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(world) -> Any:
    """The OpenAPI document /api/schema/ serves, loaded by Schemathesis."""
    from django.test import Client

    client = Client()
    client.force_login(world.users[USER_A])
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    document = json.loads(response.content)
    return schemathesis.openapi.from_dict(document)  # NUL bytes are generated too (allow_x00, the default)


def _refuse_nul_like_postgresql(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
    """PostgreSQL refuses a NUL byte in text (a 500 if the application lets one through); SQLite does not."""
    if connection.vendor != "postgresql":
        rows = params if many else [params]
        for row in rows or []:
            values = row.values() if isinstance(row, dict) else (row or [])
            if any(isinstance(value, str) and "\x00" in value for value in values):
                raise ValueError("A string literal cannot contain NUL (0x00) characters.")
    return execute(sql, params, many, context)


@pytest.fixture
def postgresql_text_rules() -> Iterator[None]:
    with connection.execute_wrapper(_refuse_nul_like_postgresql):
        yield


# --- a small world -----------------------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, Any]  # path parameter name -> the id of an object that exists and user A may see
    investigating_id: int  # findings and evidence are those of the case under investigation

    def path_parameters(self, operation: Any) -> dict[str, Any]:
        names = [p.name for p in operation.path_parameters]
        known = {name: self.ids[name] for name in names if name in self.ids}
        if "case_id" in known and ("evidence_id" in known or "clause_id" in known):
            known["case_id"] = self.investigating_id
        return known


def _token(wsgi_app: Any, username: str) -> str:
    """A token as an integrator gets one: POST /api/auth/token/ through the WSGI application."""
    from werkzeug.test import Client as WsgiClient

    response = WsgiClient(wsgi_app).post(
        "/api/auth/token/", json={"username": username, "password": DEMO_PASSWORD}, base_url="http://localhost"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


@pytest.fixture
def small_world(world, api, settings, tmp_path) -> World:
    """Cases of the inspector's jurisdiction: one decided (with its documents), one under investigation
    with evidence, one just started; and the organisation department's export job."""
    from cases.models import Case
    from reports.models import Document, DocumentKind, DocumentStatus, ExportJob
    from reports.services.documents import document_request
    from tests.factories import actor, png_upload
    from tests.workflow.helpers import act, create_case, drive_to_proposed, findings_for, meeting
    from workflow import services

    settings.MEDIA_ROOT = tmp_path
    decided = drive_to_proposed(api, world)
    r = act(api("committee"), decided["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    assert r.status_code == 200, r.json()

    investigating = create_case(api, world, subject="cadre", title="防汛抢险中先行调用物资被问责")
    assert act(api(USER_A), investigating["id"], "investigate").status_code == 200
    evidence = services.evidence_add(case_id=investigating["id"], actor=actor(world.users[USER_A]),
                                     upload=png_upload(), description="现场照片", clause_id="")
    create_case(api, world, subject="cadre", title="招商引资中先行垫资被问责")  # one just started

    today = timezone.localdate()
    export = api("orgdept").post(  # only the organisation department exports the register
        "/api/filings/export/", {"from": (today - dt.timedelta(days=30)).isoformat(), "to": today.isoformat()},
        format="json")
    assert export.status_code == 202, export.json()

    clause = next(iter(findings_for(investigating, tolerable=True)))
    # Deciding asks for the decision's documents once the transaction commits, which a test's never does:
    # ask for one here, and store a stand-in for its PDF (rendering one is not what this test is about).
    document = document_request(case=Case.objects.get(pk=decided["id"]), kind=DocumentKind.FEEDBACK)
    pdf = b"%PDF-1.4\n%stand-in\n"
    document.file.save("feedback.pdf", ContentFile(pdf), save=False)
    Document.objects.filter(pk=document.pk).update(
        file=document.file.name, status=DocumentStatus.READY, size=len(pdf), pages=1,
        sha256=hashlib.sha256(pdf).hexdigest(), generated_at=timezone.now())
    return World(
        ids={
            "case_id": decided["id"],
            "clause_id": clause,
            "document_id": document.pk,
            "evidence_id": evidence.pk,
            "job_id": ExportJob.objects.order_by("-id").values_list("id", flat=True).first(),
            "ruleset_id": "zhangjiakou",
        },
        investigating_id=investigating["id"],
    )


# --- running the cases -------------------------------------------------------------------------------


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())  # an operation the schema cannot describe is a failure in itself
    return operations


def _path_names(operation: Any) -> list[str]:
    return [p.name for p in operation.path_parameters]


def _call(case: Any, app: Any, token: str) -> Any:
    """One request in a savepoint rolled back afterwards, with fresh rate-limit counters."""
    cache.clear()
    with transaction.atomic():
        response = case.call(app=app, headers={"Authorization": f"Token {token}"})
        transaction.set_rollback(True)
    return response


def _failure(case: Any, response: Any, exc: BaseException) -> str:
    """What failed, with the request that shows it (Schemathesis' own message carries a curl command)."""
    message = str(exc).strip()
    if "curl " not in message:
        try:
            message += "\n" + case.as_curl_command(headers={"Authorization": "Token <token>"})
        except Exception:  # the reproduction is a courtesy
            message += f"\n{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
    return f"{case.operation.label} -> {response.status_code}:\n{message[:2000]}\n"


def _run(operation: Any, app: Any, token: str, *, examples: int, mode: GenerationMode,
         path_parameters: dict[str, Any] | None, check: Callable[[Any, Any], None], failures: dict[str, str]) -> int:
    calls = 0

    @hypothesis_settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = _call(case, app, token)
        try:
            check(case, response)
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every kind of failure
            key = f"{operation.label} {response.status_code} {type(exc).__name__}"
            failures.setdefault(key, _failure(case, response, exc))

    run()
    return calls


def _negatable(operation: Any, fixed: dict[str, Any]) -> bool:
    """Whether anything of the request can be made invalid: a body, a query, a path id not fixed.
    (A string in the path is never invalid; Hypothesis would search in vain for such a case.)"""
    free_ids = [p for p in operation.path_parameters
                if p.name not in fixed and p.definition.get("schema", {}).get("type") != "string"]
    return bool(operation.body) or bool(list(operation.query)) or bool(free_ids)


def _conforms(case: Any, response: Any) -> None:
    if 200 <= response.status_code < 300:
        case.validate_response(response, checks=SUCCESS_CHECKS)
    else:
        case.validate_response(response, checks=[not_a_server_error])


def test_no_input_is_a_server_error_and_successes_match_the_schema(
    api_schema, small_world, wsgi_app, postgresql_text_rules
):
    token = _token(wsgi_app, USER_A)
    failures: dict[str, str] = {}
    calls = 0
    for operation in _operations(api_schema):
        known = small_world.path_parameters(operation)
        runs = [({}, EXAMPLES_ANY_IDS if known else EXAMPLES)] + ([(known, EXAMPLES)] if known else [])
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for fixed, examples in runs:
                if mode is GenerationMode.NEGATIVE and not _negatable(operation, fixed):
                    continue
                calls += _run(operation, wsgi_app, token, examples=examples, mode=mode,
                              path_parameters=fixed or None, check=_conforms, failures=failures)

    assert calls > 0
    assert not failures, f"{len(failures)} kinds of failure in {calls} calls:\n" + "\n".join(failures.values())


def _case_reads(schema: Any) -> list[Any]:
    return [op for op in _operations(schema) if op.method.upper() == "GET" and "case_id" in _path_names(op)]


def test_a_case_stays_hidden_from_users_who_may_not_see_it(api_schema, small_world, wsgi_app):
    """Every GET under /api/cases/{case_id}/: 200 for the handling inspector, 404 for the outsiders."""
    reads = _case_reads(api_schema)
    assert {op.path for op in reads} >= {"/api/cases/{case_id}/", "/api/cases/{case_id}/history/",
                                         "/api/cases/{case_id}/evidence/{evidence_id}/"}
    owner = _token(wsgi_app, USER_A)
    outsiders = {name: _token(wsgi_app, name) for name in OUTSIDERS}
    failures: dict[str, str] = {}
    for operation in reads:
        ids = small_world.path_parameters(operation)
        plain = operation.Case(path_parameters=ids)
        seen = _call(plain, wsgi_app, owner)
        if seen.status_code != 200:
            failures[f"{operation.label} owner"] = f"{operation.label}: {USER_A} gets {seen.status_code}, not 200"
        for name, token in outsiders.items():
            response = _call(plain, wsgi_app, token)
            if response.status_code != 404:
                failures[f"{operation.label} {name}"] = (
                    f"{operation.label} as {name}: {response.status_code}, not 404: {response.content[:200]!r}")

            def hidden(case: Any, response: Any, name: str = name) -> None:
                # Whatever the query: a 400 for a malformed one, otherwise 404; never 2xx, never 5xx.
                assert response.status_code in (400, 404), f"{name} got {response.status_code}"

            _run(operation, wsgi_app, token, examples=EXAMPLES_AS_OUTSIDER, mode=GenerationMode.POSITIVE,
                 path_parameters=ids, check=hidden, failures=failures)
    assert not failures, "\n".join(failures.values())


def test_the_database_refuses_nul_in_text_as_postgresql_does(postgresql_text_rules):
    """The fuzz run's stand-in for PostgreSQL on SQLite does refuse what PostgreSQL refuses."""
    from django.db import DatabaseError

    from accounts.models import User

    with pytest.raises((ValueError, DatabaseError)), transaction.atomic():
        User.objects.filter(username="a\x00b").exists()
    assert not User.objects.filter(username="ab").exists()  # and lets the rest through
