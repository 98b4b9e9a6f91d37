"""In a real browser: the Content-Security-Policy blocks nothing the pages need, and a user changes their
password from the layout and signs in again with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_PASSWORD

from .conftest import Site
from .helpers import seed_executed

pytestmark = pytest.mark.e2e


def _csp_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def test_pages_break_no_content_security_policy_rule(site: Site) -> None:
    case = seed_executed(site.world)
    page = site.login("inspector")
    violations = _csp_violations(page)
    for path in ("/", "/cases/", f"/cases/{case.pk}/", f"/cases/{case.pk}/?tab=evidence",
                 f"/cases/{case.pk}/?tab=history", "/rules/zhangjiakou/", "/api/docs/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    expect(page.locator("#swagger-ui")).to_contain_text("容错纠错案件管理系统 API")
    assert violations == []


def test_user_changes_password_from_the_layout_and_signs_in_again(site: Site) -> None:
    page = site.login("cadre2")
    page.locator("header.topbar").get_by_role("link", name="修改密码").click()
    page.fill("#id_old_password", DEMO_PASSWORD)
    page.fill("#id_new_password1", "Cadre2026")
    page.fill("#id_new_password2", "Cadre2026")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("main")).to_contain_text("单词加一串数字")

    new = "Vb#4-kLp-2039"
    page.fill("#id_old_password", DEMO_PASSWORD)
    page.fill("#id_new_password1", new)
    page.fill("#id_new_password2", new)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(lambda url: "/login/" in url)
    expect(page.locator("main")).to_contain_text("请使用新密码重新登录")
    page.fill("#id_username", "cadre2")
    page.fill("#id_password", new)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    expect(page.locator("header.topbar")).to_contain_text("李某")
