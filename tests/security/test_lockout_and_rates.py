"""Lockout per username (login page, API token, admin), trusted client address, rate limits."""

import pytest
from axes.models import AccessAttempt

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

LOCK_MESSAGE = "已被锁定 30 分钟"


def _fail_login(client, username, *, ip="10.0.0.1", path="/login/"):
    return client.post(path, {"username": username, "password": "wrong-Passw0rd!"}, REMOTE_ADDR=ip)


def test_login_page_locks_username_after_five_failures_from_different_addresses(client, world):
    for i in range(4):
        assert _fail_login(client, "inspector", ip=f"10.0.0.{i + 1}").status_code == 200

    fifth = _fail_login(client, "inspector", ip="10.0.0.99")

    assert fifth.status_code == 429
    assert LOCK_MESSAGE in fifth.content.decode()
    # Even the right password from yet another address is refused while locked.
    right = client.post("/login/", {"username": "inspector", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # Other users are not affected.
    other = client.post("/login/", {"username": "cadre", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.0.0.99")
    assert other.status_code == 302


def test_lockout_expires_after_the_configured_minutes(client, world, settings):
    import datetime as dt

    from django.utils import timezone

    for _ in range(5):
        _fail_login(client, "cadre")
    assert client.post("/login/", {"username": "cadre", "password": DEMO_PASSWORD}).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))

    assert client.post("/login/", {"username": "cadre", "password": DEMO_PASSWORD}).status_code == 302


def test_api_token_endpoint_shares_the_username_lockout(client, world):
    for _ in range(5):
        _fail_login(client, "cadre")

    response = client.post("/api/auth/token/", {"username": "cadre", "password": DEMO_PASSWORD},
                           content_type="application/json")

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out" and LOCK_MESSAGE in body["detail"]
    assert "token" not in body


def test_failures_on_the_token_endpoint_lock_the_login_page(client, world):
    for i in range(5):
        client.post("/api/auth/token/", {"username": "orgdept", "password": "wrong-Passw0rd!"},
                    content_type="application/json", REMOTE_ADDR=f"10.1.0.{i}")

    assert client.post("/login/", {"username": "orgdept", "password": DEMO_PASSWORD}).status_code == 429


def test_admin_login_is_locked_too(client, world):
    for _ in range(5):
        _fail_login(client, "admin", path="/admin/login/")

    response = client.post("/admin/login/", {"username": "admin", "password": DEMO_PASSWORD})

    assert response.status_code == 429
    assert LOCK_MESSAGE in response.content.decode()


def test_client_address_comes_only_from_the_configured_header(client, world, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; our proxy appended the real peer 203.0.113.7.
    client.post("/login/", {"username": "committee", "password": "x-Wrong-1"},
                REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")

    assert AccessAttempt.objects.get(username="committee").ip_address == "203.0.113.7"


def test_forwarded_header_is_ignored_unless_configured(client, world, settings):
    settings.TRUSTED_PROXY_HEADER = ""
    client.post("/login/", {"username": "committee", "password": "x-Wrong-1"},
                REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert AccessAttempt.objects.get(username="committee").ip_address == "172.16.0.2"


def test_token_endpoint_is_rate_limited_per_address(client, world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "token": "3/min"}}
    from rest_framework.throttling import ScopedRateThrottle

    # Restored to the dict it held before: api_settings still reads "3/min" until the settings fixture
    # reverts, after the test, so restoring from it would leak the low rate into later tests.
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        codes = [client.post("/api/auth/token/", {"username": f"nobody{i}", "password": "x"},
                             content_type="application/json").status_code for i in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original

    assert codes == [400, 400, 400, 429]


def test_anonymous_pages_are_rate_limited(client, settings):
    settings.PAGE_ANON_RATE = "3/min"

    codes = [client.get("/login/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert "请求过于频繁" in client.get("/login/").content.decode()
