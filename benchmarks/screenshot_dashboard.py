"""Screenshot of the statistics dashboard over a generated database (``docs/screenshots/dashboard-generated.png``).

Serves the project on a local port for the length of the run, signs in a generated provincial committee
member (generated officials have no password: the session is made server-side), opens ``/insight/`` over
the whole generated span in Debian's Chromium and photographs the totals and the first charts, then the
rule sets and departments.

Run: ``DATABASE_URL=postgres://... .venv/bin/python benchmarks/screenshot_dashboard.py [--from 2021-01-01]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread; the ORM is used before it

OUT = ROOT / "docs" / "screenshots" / "dashboard-generated.png"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="date_from", default="2021-01-01")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test import Client
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    from accounts.models import OrgLevel, Role, User

    user = (User.objects.filter(username__startswith=f"gen_{Role.COMMITTEE}_", memberships__role=Role.COMMITTEE,
                                memberships__organisation__level=OrgLevel.PROVINCE).order_by("id").first())
    if user is None:
        sys.exit("没有生成的省级党委成员：请先运行 generate_cases。")
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://127.0.0.1:{server.port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context(viewport={"width": 1366, "height": 1500}, locale="zh-CN",
                                          timezone_id="Asia/Shanghai")
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/insight/?from={args.date_from}", timeout=60_000)
            page.wait_for_selector("#card-ruleset .insight-chart canvas")
            page.locator("#card-ruleset").scroll_into_view_if_needed()
            page.evaluate("() => document.getElementById('card-ruleset').scrollIntoView({block: 'start'})")
            page.screenshot(path=args.out)
            browser.close()
            if errors:
                sys.exit("页面有脚本错误：" + "；".join(errors))
    finally:
        server.terminate()
    print(f"{args.out}")


if __name__ == "__main__":
    main()
