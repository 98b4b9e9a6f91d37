"""Two-factor sign-in (TOTP with django-otp, single-use recovery codes): who must use it, enrolment,
the verification step after the password, nothing reachable before it (pages, API, tokens), no replay of
a code, the audit record, and the administrator's reset."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, User
from accounts.selectors import two_factor_applies
from accounts.services import api_token_issue, recovery_code_digest
from audit.models import AuditAction, AuditEvent
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True
    return settings


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's phone shows now (or ``steps_ahead`` 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def password_login(username: str) -> Client:
    c = Client()
    response = c.post("/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content
    return c


def enrol(c: Client, user: User) -> list[str]:
    """Through the enrolment page: the secret it shows, confirmed by a first code; returns the codes."""
    page = c.get("/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = c.post("/two-factor/setup/", {"code": code_for(device)})
    assert response.status_code == 200
    return response.context["codes"]


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def test_privileged_roles_must_use_two_factor_cadres_need_not(world, two_factor_on):
    users = world.users
    for name in ("inspector", "committee", "orgdept", "admin", "auditor"):
        assert two_factor_applies(users[name]), name
    for name in ("cadre", "unit"):
        assert not two_factor_applies(users[name]), name


def test_off_by_default_in_the_demo_and_tests(world, settings):
    assert settings.TWO_FACTOR_REQUIRED is False
    c = password_login("inspector")
    assert c.get("/cases/").status_code == 200


def test_nothing_is_reachable_before_enrolment(world, two_factor_on):
    c = password_login("inspector")

    page = c.get("/cases/")
    api = c.get("/api/cases/")
    password = c.get("/password/")

    assert page.status_code == 302 and page["Location"] == "/two-factor/setup/?next=%2Fcases%2F"
    assert api.status_code == 403 and api.json()["code"] == "otp_required"
    assert password.status_code == 302 and password["Location"].startswith("/two-factor/setup/")
    assert c.get("/admin/").status_code == 302
    assert not TOTPDevice.objects.filter(user=world.users["inspector"], confirmed=True).exists()


def test_enrolment_shows_qr_and_secret_confirms_with_a_code_and_shows_recovery_codes_once(world, two_factor_on):
    user = world.users["inspector"]
    c = password_login("inspector")

    page = c.get("/two-factor/setup/?next=/cases/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    from base64 import b32decode

    assert b32decode(secret) == device.bin_key
    qr = re.search(r'<img class="otp-qr" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert qr, "the QR code is an inline server-rendered SVG, no external request"
    # Reloading keeps the secret the user may already have scanned.
    c.get("/two-factor/setup/")
    assert TOTPDevice.objects.filter(user=user).count() == 1

    wrong = c.post("/two-factor/setup/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode(), re.findall(r"class=\"error[^<]*<", wrong.content.decode())
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)

    done = c.post("/two-factor/setup/", {"code": code_for(device), "next": "/cases/"})

    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    # Only digests are stored, never the codes themselves.
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {recovery_code_digest(code) for code in codes} and not stored & set(codes)
    # The session that enrolled has passed the second factor.
    assert c.get("/cases/").status_code == 200
    assert c.get("/api/cases/").status_code == 200
    # Shown once: the enrolment page now only reports the state, and cannot enrol again.
    again = c.get("/two-factor/setup/").content.decode()
    assert "已启用双因素认证" in again and not any(code in again for code in codes)
    enrolled, = events(AuditAction.OTP_ENROLLED)
    assert (enrolled.user_id, enrolled.success) == (user.pk, True)
    assert events(AuditAction.OTP_FAILED, user_id=user.pk)


def test_verification_after_password_then_everything_is_reachable(world, two_factor_on):
    user = world.users["committee"]
    enrol(password_login("committee"), user)
    device = TOTPDevice.objects.get(user=user)

    c = password_login("committee")
    assert c.get("/cases/")["Location"] == "/two-factor/?next=%2Fcases%2F"
    assert c.get("/api/cases/").json()["code"] == "otp_required"

    response = c.post("/two-factor/", {"code": code_for(device, steps_ahead=1), "next": "/cases/"})

    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert c.get("/cases/").status_code == 200
    assert c.get("/api/cases/").status_code == 200
    verified, = events(AuditAction.OTP_VERIFIED)
    assert verified.user_id == user.pk and verified.success


def test_a_used_code_cannot_be_used_again(world, two_factor_on):
    user = world.users["orgdept"]
    enrol(password_login("orgdept"), user)
    device = TOTPDevice.objects.get(user=user)
    code = code_for(device, steps_ahead=1)
    first = password_login("orgdept")
    assert first.post("/two-factor/", {"code": code})["Location"] == "/"

    replay = password_login("orgdept")
    response = replay.post("/two-factor/", {"code": code})

    assert response.status_code == 200 and "已使用或已过期" in response.content.decode()
    assert replay.get("/cases/").status_code == 302
    device.refresh_from_db()
    assert device.last_t >= int(time.time()) // 30 + 1  # django-otp's last_t: nothing at or before it
    failed = events(AuditAction.OTP_FAILED, user_id=user.pk)
    assert failed and not failed[-1].success


def test_failures_are_throttled(world, two_factor_on):
    user = world.users["orgdept"]
    enrol(password_login("orgdept"), user)
    device = TOTPDevice.objects.get(user=user)
    c = password_login("orgdept")
    bad = "123456" if code_for(device, steps_ahead=1) != "123456" else "654321"
    c.post("/two-factor/", {"code": bad})
    c.post("/two-factor/", {"code": bad})

    # Even the right code waits out the doubling delay after two failures.
    response = c.post("/two-factor/", {"code": code_for(device, steps_ahead=1)})

    assert response.status_code == 200 and "尝试过于频繁" in response.content.decode()
    assert c.get("/cases/").status_code == 302


def test_recovery_codes_are_single_use(world, two_factor_on):
    user = world.users["inspector"]
    codes = enrol(password_login("inspector"), user)

    c = password_login("inspector")
    response = c.post("/two-factor/", {"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert c.get("/cases/").status_code == 200
    assert StaticDevice.objects.get(user=user).token_set.count() == 9

    again = password_login("inspector")
    refused = again.post("/two-factor/", {"code": codes[0]})
    assert refused.status_code == 200 and again.get("/cases/").status_code == 302
    used, = events(AuditAction.OTP_RECOVERY_USED)
    assert used.user_id == user.pk and "剩余 9 个" in used.detail


def test_token_endpoint_requires_a_valid_otp(world, two_factor_on):
    from django.core.cache import cache

    cache.clear()  # the token endpoint's rate limit counts requests of earlier tests from the same address
    user = world.users["inspector"]
    url = "/api/auth/token/"
    credentials = {"username": "inspector", "password": DEMO_PASSWORD}
    not_enrolled = Client().post(url, credentials, content_type="application/json")
    assert not_enrolled.status_code == 403 and not_enrolled.json()["code"] == "otp_required"

    enrol(password_login("inspector"), user)
    device = TOTPDevice.objects.get(user=user)
    missing = Client().post(url, credentials, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["field"] == "otp"
    assert not ApiToken.objects.filter(user=user).exists()

    code = code_for(device, steps_ahead=1)
    ok = Client().post(url, {**credentials, "otp": code}, content_type="application/json")
    assert ok.status_code == 200
    key = ok.json()["token"]
    assert Client().get("/api/cases/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    replay = Client().post(url, {**credentials, "otp": code}, content_type="application/json")
    assert replay.status_code == 400 and replay.json()["code"] == "otp_invalid"
    assert ApiToken.objects.filter(user=user).count() == 1


def test_token_issued_without_a_second_factor_is_refused_once_it_applies(world, two_factor_on):
    _, key = api_token_issue(user=world.users["committee"])
    _, cadre_key = api_token_issue(user=world.users["cadre"])

    response = Client().get("/api/cases/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 403 and response.json()["code"] == "otp_required"
    assert Client().get("/api/cases/", HTTP_AUTHORIZATION=f"Token {cadre_key}").status_code == 200


def test_cadres_are_not_asked(world, two_factor_on):
    c = password_login("cadre")
    assert c.get("/mine/").status_code == 200
    token = Client().post("/api/auth/token/", {"username": "cadre", "password": DEMO_PASSWORD},
                          content_type="application/json")
    assert token.status_code == 200


def test_admin_resets_a_users_two_factor(world, two_factor_on):
    target = world.users["inspector"]
    enrol(password_login("inspector"), target)
    session = password_login("inspector")
    session.post("/two-factor/", {"code": code_for(TOTPDevice.objects.get(user=target), steps_ahead=1)})
    assert session.get("/cases/").status_code == 200
    admin_user = world.users["admin"]
    admin = password_login("admin")
    enrol(admin, admin_user)

    response = admin.post("/admin/accounts/user/", {"action": "two_factor_reset", "_selected_action": [target.pk]})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    assert session.get("/cases/").status_code == 302  # the phone thief's session ended too
    reset, = events(AuditAction.OTP_RESET)
    assert (reset.user_id, reset.object_type, reset.object_id) == (admin_user.pk, "user", str(target.pk))
    assert password_login("inspector").get("/cases/")["Location"].startswith("/two-factor/setup/")


def test_otp_device_admins_are_not_offered(world):
    c = Client()
    c.force_login(world.users["admin"])
    assert c.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert c.get("/admin/otp_static/staticdevice/").status_code == 404


def test_next_is_kept_only_for_this_site(world, two_factor_on):
    user = world.users["committee"]
    enrol(password_login("committee"), user)
    c = password_login("committee")
    response = c.post("/two-factor/", {"code": code_for(TOTPDevice.objects.get(user=user), steps_ahead=1),
                                       "next": "https://evil.example/"})
    assert response["Location"] == "/"
