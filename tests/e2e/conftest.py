"""A real Chromium against pytest-django's live server: one browser per run, one context per user.

Playwright's sync API keeps an event loop running in the main thread for the whole session, and Django
refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation). The test code and the
fixtures only ever touch the database between browser calls, never concurrently with them, so the
documented escape hatch is safe here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

from tests.conftest import DEMO_PASSWORD, ROOT  # noqa: E402

SCREENSHOTS = ROOT / "docs" / "screenshots"
MEDIA = ROOT / "test-artifacts" / "e2e-media"
VIEWPORT = {"width": 1366, "height": 768}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Generous for a cold PDF render, short enough that a hung page fails the run quickly.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_browser = {"site", "browser"} & set(getattr(item, "fixturenames", ()))
        if uses_browser and item.get_closest_marker("e2e") is None:
            raise pytest.UsageError(f"{item.nodeid}: a test that drives the browser must be marked @pytest.mark.e2e")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Site:
    """The live server seen through the browser, with what every page must not do recorded on the way."""

    url: str
    browser: Browser
    world: Any
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str, str]] = field(default_factory=list)  # (resource, text, report)
    expected_console: list[re.Pattern[str]] = field(default_factory=list)
    # Pages and the pages' own fetches that the server answered with a 4xx on purpose (a form shown again
    # with its errors is a 400, a case the user may not see is a 404): Chromium logs each as a console error
    # although the page shows the server's Chinese answer. Images, frames, scripts and styles are not here.
    answered_4xx: set[str] = field(default_factory=set)

    def expect_console_error(self, pattern: str) -> None:
        """A console error the test causes on purpose (opening a page it expects to be 404, say); any
        other console error still fails the test."""
        self.expected_console.append(re.compile(pattern))

    def _watch(self, page: Page) -> None:
        def on_response(response: Any) -> None:
            if response.status >= 500:
                self.problems.append(f"HTTP {response.status} {response.request.method} {response.url}")
            elif response.status >= 400:
                request = response.request
                navigation = request.resource_type == "document" and request.frame.parent_frame is None
                if navigation or request.resource_type in ("fetch", "xhr"):
                    self.answered_4xx.add(response.url)

        def on_request(request: Any) -> None:
            # chrome:// and chrome-extension:// are the browser's own PDF viewer (an evidence preview),
            # served from inside Chromium: not a request that leaves the machine.
            if not request.url.startswith((self.url, "data:", "blob:", "about:", "chrome://", "chrome-extension://")):
                self.problems.append(f"external request (intranet pages must not make one): {request.url}")

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            where = message.location.get("url") or page.url
            self.console_errors.append((where, message.text, f"console error on {page.url} ({where}): {message.text}"))

        page.on("response", on_response)
        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(("", "", f"JavaScript error on {page.url}: {exc}")))

    def unexpected_console_errors(self) -> list[str]:
        def answered(where: str, text: str) -> bool:
            return where in self.answered_4xx and text.startswith(
                "Failed to load resource: the server responded with a status of 4")

        return [report for where, text, report in self.console_errors
                if not answered(where, text) and not any(p.search(report) for p in self.expected_console)]

    def new_context(self, **kwargs: Any) -> BrowserContext:
        options = {"viewport": VIEWPORT, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                   "accept_downloads": True, "base_url": self.url, **kwargs}
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def login(self, username: str, **context_options: Any) -> Page:
        """A fresh browser session signed in through the real login form."""
        page = self.new_context(**context_options).new_page()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        assert self.world.users[username].display_name() in page.inner_text("header.topbar")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def site(browser: Browser, live_server, world, settings) -> Iterator[Site]:
    # CI points REDIS_URL at a broker with no worker; here documents and exports render in-process, in the
    # live server's thread. The real worker over Redis is proven by the reports and foundation tests.
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the Celery app read its settings at start-up
    settings.MEDIA_ROOT = MEDIA
    MEDIA.mkdir(parents=True, exist_ok=True)
    s = Site(url=live_server.url, browser=browser, world=world)
    try:
        yield s
    finally:
        s.close()
        app.conf.task_always_eager = saved
    problems = s.problems + s.unexpected_console_errors()
    assert not problems, "\n".join(problems)


def screenshot(page: Page, role: str) -> Path:
    """The viewport at 1366×768 (not the full page: the README shows what a user first sees)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{role}.png"
    page.screenshot(path=str(target), full_page=False, type="png")
    return target


def action_forms(page: Page) -> set[str]:
    """The action forms rendered on a case or decision page, by the action named in their URL."""
    actions = page.locator("form[action*='/act/']").evaluate_all(
        "forms => forms.map(f => f.getAttribute('action'))"
    )
    return {re.search(r"/act/([a-z_]+)/", a).group(1) for a in actions}


def api_allowed_actions(page: Page, case_id: int) -> set[str]:
    response = page.request.get(f"/api/cases/{case_id}/")
    assert response.ok, response.text()
    return set(response.json()["allowed_actions"])


def assert_no_dead_buttons(page: Page, case_id: int) -> None:
    """The forms the page offers are exactly the API's allowed_actions for this user."""
    assert action_forms(page) == api_allowed_actions(page, case_id)

