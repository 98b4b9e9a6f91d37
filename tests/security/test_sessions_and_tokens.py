"""Idle and absolute session timeouts; log-out and password change end every session and token;
expiring API tokens that their owner lists and revokes, and an administrator revokes in the admin."""

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _token(client, username="cadre"):
    response = client.post("/api/auth/token/", {"username": username, "password": DEMO_PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _login(username="cadre"):
    c = Client()
    assert c.post("/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    assert c.get("/").status_code == 200
    return c


def _age_session(client, *, idle=0.0, since_login=0.0):
    session = client.session
    now = time.time()
    session["_seen_at"] = now - idle
    session["_auth_at"] = now - since_login
    session.save()


def test_session_ends_after_idle_minutes(world, settings):
    settings.SESSION_IDLE_MINUTES = 30
    c = _login()
    _age_session(c, idle=29 * 60)
    assert c.get("/").status_code == 200
    _age_session(c, idle=31 * 60)

    response = c.get("/mine/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "30 分钟未操作" in c.get(response["Location"]).content.decode()
    assert c.get("/").status_code == 302


def test_session_ends_after_absolute_hours_even_when_active(world, settings):
    settings.SESSION_ABSOLUTE_HOURS = 12
    c = _login()
    _age_session(c, idle=5, since_login=12 * 3600 + 60)

    assert c.get("/").status_code == 302
    api = _login()
    _age_session(api, idle=5, since_login=13 * 3600)
    response = api.get("/api/me/")
    assert response.status_code == 401 and response.json()["code"] == "session_expired"


def test_idle_timeout_is_the_session_cookie_age(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_logout_ends_every_session_and_token_of_the_user(client, world):
    first, second, other = _login("cadre"), _login("cadre"), _login("inspector")
    key = _token(client, "cadre")["token"]

    first.post("/logout/")

    assert second.get("/").status_code == 302
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert other.get("/").status_code == 200


def test_admin_logout_ends_every_session_too(world):
    site, admin = _login("admin"), _login("admin")
    admin.post("/admin/logout/")
    assert site.get("/").status_code == 302


def test_password_change_ends_every_session_and_token(client, world):
    first, second = _login("cadre"), _login("cadre")
    key = _token(client, "cadre")["token"]
    new = "Nq#7-vTk-2031"

    first.post("/password/", {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new})

    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert not ApiToken.objects.filter(user__username="cadre").exists()


def test_tokens_expire_after_the_configured_hours(client, world, settings):
    settings.API_TOKEN_HOURS = 12
    body = _token(client)
    token = ApiToken.objects.get()
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(hours=12)) < dt.timedelta(minutes=1)
    assert body["expires_at"]
    assert token.key_hash != body["token"] and body["token"] not in token.key_hash  # only a digest is stored

    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {body['token']}")

    assert response.status_code == 401
    assert "令牌已过期" in response.json()["detail"]


def test_owner_lists_and_revokes_own_tokens_only(client, world):
    mine_a, mine_b = _token(client)["token"], _token(client)["token"]
    theirs = _token(client, "inspector")["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {mine_a}"}

    listed = client.get("/api/auth/tokens/", **auth).json()

    assert len(listed) == 2
    assert {t["prefix"] for t in listed} == {mine_a[:8], mine_b[:8]}
    assert [t["current"] for t in listed if t["prefix"] == mine_a[:8]] == [True]
    assert all("token" not in t and "key_hash" not in t for t in listed)

    their_id = ApiToken.objects.get(user__username="inspector").pk
    assert client.delete(f"/api/auth/tokens/{their_id}/", **auth).status_code == 404
    assert ApiToken.objects.filter(pk=their_id).exists()

    b_id = next(t["id"] for t in listed if t["prefix"] == mine_b[:8])
    assert client.delete(f"/api/auth/tokens/{b_id}/", **auth).status_code == 204
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {mine_b}").status_code == 401
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {theirs}").status_code == 200


def test_administrator_revokes_a_token_in_the_admin(client, world):
    key = _token(client, "inspector")["token"]
    token = ApiToken.objects.get()
    client.force_login(world.users["admin"])
    assert client.get("/admin/accounts/apitoken/").status_code == 200
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403

    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    assert not ApiToken.objects.exists()
    assert Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_token_of_a_user_whose_password_must_change_is_refused(client, world):
    key = _token(client)["token"]
    User.objects.filter(username="cadre").update(must_change_password=True)
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403 and response.json()["code"] == "password_expired"


@pytest.mark.parametrize("username", ["cadre", "inspector"])
def test_a_token_request_reads_the_cadre_record_with_the_token(client, world, username):
    """The visibility rule asks whether the caller is a cadre: answered by the token's own query (with a
    cadre record or without one), never by a query of its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Person
    from tests.e2e.helpers import actor
    from workflow import services

    own = services.case_create(actor=actor(world, "inspector"), title="本人的事项", subject=world.people["cadre"],
                               accountability_org=world.orgs["zjk_dc"], conduct_date="2025-06-01",
                               matter_category="environment", summary="工作中出现偏差。")
    key = _token(client, username)["token"]
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get("/api/cases/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    person = Person._meta.db_table
    alone = [q["sql"] for q in ctx.captured_queries if f'FROM "{person}"' in q["sql"]]
    assert alone == [], alone
    ids = {row["id"] for row in response.json()["results"]}
    # The cadre sees their own case (the branch that needs the record); the inspector sees it as the department's.
    assert own.pk in ids


@pytest.mark.parametrize("username", ["cadre", "inspector"])
def test_a_signed_in_page_reads_the_cadre_record_with_the_user(world, username):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Person

    c = _login(username)
    with CaptureQueriesContext(connection) as ctx:
        response = c.get("/")
    assert response.status_code == 200
    person = Person._meta.db_table
    assert [q["sql"] for q in ctx.captured_queries if f'FROM "{person}"' in q["sql"]] == []
    # The navigation still knows a cadre from an official.
    assert ("我的案件" in response.content.decode()) is (username == "cadre")
