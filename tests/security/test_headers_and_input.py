"""Content-Security-Policy without unsafe-inline, Permissions-Policy, no-store on what a signed-in user
is shown, and NUL bytes or undecodable query strings answered with 400, never 500."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def _csp(response):
    return response["Content-Security-Policy"]


def test_pages_carry_a_strict_csp_and_permissions_policy(client, world):
    response = client.get("/login/")
    csp = _csp(response)
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_or_style():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "documents" in path.relative_to(ROOT / "templates").parts:
            continue  # PDF documents are rendered by WeasyPrint, never by a browser
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) and "application/json" not in text:
            offenders.append(f"{path}: inline <script>")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path}: inline style or handler")
    assert not offenders, offenders


def _rendered_inline(html: str) -> list[str]:
    found = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    found += re.findall(r"<style\b[^>]*>", html)
    found += re.findall(r"\sstyle=\"[^\"]*\"", html)
    return found


@pytest.mark.parametrize("username,path", [
    ("inspector", "/"), ("inspector", "/cases/"), ("cadre", "/mine/"), ("cadre", "/password/"),
    ("admin", "/admin/"), ("admin", "/admin/accounts/user/"), ("admin", "/admin/accounts/user/{me}/change/"), ("inspector", "/rules/zhangjiakou/"),
    ("inspector", "/api/docs/"),
])
def test_rendered_pages_have_nothing_inline(client, world, username, path):
    client.force_login(world.users[username])
    # Ids come from the database's sequence (not 1 on PostgreSQL after earlier tests): use the user's own.
    response = client.get(path.format(me=world.users[username].pk))
    assert response.status_code == 200
    assert _rendered_inline(response.content.decode()) == []


def test_swagger_init_script_is_a_separate_same_origin_file(client, world):
    client.force_login(world.users["inspector"])
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]


def test_signed_in_answers_are_no_store(client, world):
    client.force_login(world.users["inspector"])
    for path in ("/", "/cases/", "/api/cases/", "/api/me/"):
        response = client.get(path)
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"]


def test_case_page_and_documents_are_no_store(client, world):
    from cases.models import Case
    from workflow.management.demo.cases import demo_cases_seed

    demo_cases_seed(world=world)
    case = Case.objects.filter(subject__unit__name="张家口市生态环境局").first()
    client.force_login(world.users["inspector"])
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert _rendered_inline(response.content.decode()) == []
    for tab in ("evidence", "history", "decision"):
        assert _rendered_inline(client.get(f"/cases/{case.pk}/?tab={tab}").content.decode()) == []


@pytest.mark.parametrize("query", ["q=%00", "q=abc%00def", "ruleset=%00", "outcome=%00", "q=%ff%fe", "q=%C3%28"])
def test_bad_query_on_pages_is_a_chinese_400(client, world, query):
    client.force_login(world.users["inspector"])
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 400
    assert "含有无效字符" in response.content.decode()


@pytest.mark.parametrize("query", ["q=%00", "ruleset=x%00", "outcome=%00", "q=%ff"])
def test_bad_query_on_the_api_is_a_json_400(api, query):
    response = api("inspector").get(f"/api/cases/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["field"] == query.split("=")[0]
    assert "含有无效字符" in body["detail"]


def test_good_unicode_query_still_works(client, world):
    client.force_login(world.users["inspector"])
    assert client.get("/cases/?q=%E7%8E%8B%E6%9F%90").status_code == 200


def test_pages_stay_unframeable(client, world, settings):
    client.force_login(world.users["inspector"])
    assert client.get("/cases/")["X-Frame-Options"] == "DENY"
    assert Path(settings.BASE_DIR, "static", "css", "swagger.css").exists()


def test_an_unknown_api_address_answers_in_the_json_error_shape(client, world, settings):
    settings.DEBUG = False  # the handler applies outside the debug page
    client.force_login(world.users["inspector"])
    response = client.get("/api/rulesets/zh%00/")
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/json")
    assert client.get("/api/no-such-thing/").json()["code"] == "not_found"
