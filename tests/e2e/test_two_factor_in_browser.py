"""In a real browser, with two-factor sign-in on: an inspector enrols an authenticator from the QR page
(the code computed here from the secret the page shows), keeps the recovery codes, signs out, and signs in
again with a fresh code; the pages break no Content-Security-Policy rule on the way."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_PASSWORD

from .conftest import Site

pytestmark = pytest.mark.e2e


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(secret.replace(" ", "")), 30, 0, 6, 0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _csp_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def test_inspector_enrols_and_signs_in_with_a_code(site: Site, settings) -> None:
    settings.TWO_FACTOR_REQUIRED = True
    page = site.login("inspector")
    violations = _csp_violations(page)
    page.goto("/cases/")
    expect(page).to_have_url(f"{site.url}/two-factor/setup/?next=%2Fcases%2F")
    page.reload()
    qr = page.locator("img.otp-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image must load under the CSP"
    secret = page.inner_text("#otp-secret")

    page.fill("#id_code", _code(secret))
    page.get_by_role("button", name="确认启用").click()

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page).to_have_url(f"{site.url}/cases/")

    page.locator("header.topbar").get_by_role("button", name="退出").click()
    page.fill("#id_username", "inspector")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site.url}/two-factor/?next=%2F")
    page.fill("#id_code", _code(secret, steps_ahead=1))
    page.get_by_role("button", name="验证").click()

    expect(page).to_have_url(f"{site.url}/")
    page.goto("/cases/")
    expect(page.locator("h1")).not_to_contain_text("双因素认证")
    assert page.request.get("/api/cases/").ok
    assert violations == []
