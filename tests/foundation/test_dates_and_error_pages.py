"""One date format for people, and error pages in Chinese in the site's layout (JSON under /api/)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client

from rules.dates import cn_date, cn_datetime

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the date helper -------------------------------------------------------------------------------

def test_dates_are_written_without_leading_zeros():
    assert cn_date(dt.date(2027, 1, 1)) == "2027年1月1日"
    assert cn_date(dt.date(2026, 12, 31)) == "2026年12月31日"
    assert cn_date(None) == ""


def test_a_moment_is_written_in_the_sites_time_zone_with_hours_and_minutes():
    utc = dt.datetime(2026, 12, 31, 17, 5, tzinfo=dt.UTC)  # 01:05 on 1 January in Beijing
    assert cn_datetime(utc) == "2027年1月1日 01:05"
    assert cn_date(utc) == "2027年1月1日"
    assert cn_datetime(dt.datetime(2027, 3, 4, 9, 5, tzinfo=SHANGHAI)) == "2027年3月4日 09:05"
    assert cn_datetime(dt.date(2027, 3, 4)) == "2027年3月4日"
    assert cn_datetime(None) == ""


def test_the_template_filters_are_built_in_and_quiet_on_missing_values():
    template = Template("{{ d|cn_date }}|{{ t|cn_datetime }}|{{ none|cn_date|default:'—' }}|{{ text|cn_date }}")
    out = template.render(Context({"d": dt.date(2027, 1, 1), "t": dt.datetime(2027, 1, 1, 9, 5, tzinfo=SHANGHAI),
                                   "none": None, "text": "not a date"}))
    assert out == "2027年1月1日|2027年1月1日 09:05|—|"


FORMATS = re.compile(
    r"""\|date\b|\|time\b|strftime\(|:%Y|%Y年|%m月|%d日|"Y-m-d|Y年n月j日|date_format\("""
)
# Machine formats that are no one's reading: file names, the CSV export, the XLSX register, model __str__.
ALLOWED = {
    ("audit/views.py", 'strftime("%Y-%m-%d %H:%M:%S")'),
    ("audit/views.py", 'strftime("%Y%m%d-%H%M%S")'),
    ("audit/models.py", "{self.at:%Y-%m-%d %H:%M:%S}"),
    ("cases/models.py", "{self.created_at:%Y}"),
    ("reports/services/archive.py", "{job.date_from:%Y%m%d}"),
    ("reports/downloads.py", "{stamp:%Y%m%d-%H%M}.xlsx"),
    ("reports/services/caselist.py", 'strftime("%Y%m%d-%H%M%S")'),
    ("reports/insight_views.py", "{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.xlsx"),
    # A key of the dashboard's summary table (month of decision), never shown as a date.
    ("reports/tally.py", "{month_of(r['t_dm']):%Y-%m}|"),
}


def test_no_template_or_code_writes_a_date_its_own_way():
    offenders = []
    files = [*ROOT.glob("templates/**/*.html")]
    for app in ("accounts", "audit", "cases", "config", "reports", "rules", "workflow"):
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "rules/dates.py":
            continue  # the one helper
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORMATS.search(line) and not any(rel == f and snippet in line for f, snippet in ALLOWED):
                offenders.append(f"{rel}:{number}: {line.strip()[:120]}")
    assert not offenders, "use |cn_date / |cn_datetime or rules.dates:\n" + "\n".join(offenders)


# --- error pages -----------------------------------------------------------------------------------

@pytest.fixture
def browser_client(db) -> Client:
    return Client(raise_request_exception=False)


def _in_layout(html: str) -> None:
    assert '<html lang="zh-Hans">' in html and 'href="/static/css/app.css"' in html
    assert "容错纠错案件管理系统" in html and "回到首页" in html and "返回上一页" in html


@pytest.mark.urls("tests.foundation.error_urls")
def test_a_bug_is_a_chinese_500_page_that_needs_no_database(browser_client, settings):
    assert settings.DEBUG is False  # production-like: Django's technical page is off
    # The page must render even when the database is what broke.
    with connection.execute_wrapper(_no_database):
        response = browser_client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    _in_layout(html)
    assert "系统出错" in html and "RuntimeError" not in html and "Traceback" not in html


def _no_database(execute, sql, params, many, context):  # noqa: ANN001, ANN202 - Django's wrapper signature
    raise AssertionError(f"the error page queried the database: {sql}")


@pytest.mark.urls("tests.foundation.error_urls")
def test_a_bug_under_the_api_answers_in_the_json_error_shape(browser_client):
    response = browser_client.get("/api/boom/")
    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误，请稍后再试。", "code": "error"}


@pytest.mark.urls("tests.foundation.error_urls")
def test_a_refusal_is_a_chinese_403_page_with_the_views_reason(browser_client, world):
    browser_client.force_login(world.users["cadre"])
    response = browser_client.get("/refuse/", HTTP_REFERER="http://testserver/mine/")
    assert response.status_code == 403
    html = response.content.decode()
    _in_layout(html)
    assert "无权访问" in html and "只有问责部门可以办理。" in html
    assert 'href="http://testserver/mine/"' in html  # back to where the user came from
    english = browser_client.get("/refuse-en/").content.decode()
    assert "You shall not pass" not in english and "您没有查看此页面或执行此操作的权限。" in english


@pytest.mark.urls("tests.foundation.error_urls")
def test_a_suspicious_request_is_a_chinese_400_page(browser_client):
    response = browser_client.get("/suspicious/")
    assert response.status_code == 400
    _in_layout(response.content.decode())


def test_an_unknown_page_is_a_chinese_404_in_the_layout_and_an_unknown_api_address_json(browser_client, world):
    browser_client.force_login(world.users["cadre"])
    response = browser_client.get("/no-such-page/", HTTP_REFERER="https://elsewhere.example/")
    assert response.status_code == 404
    html = response.content.decode()
    _in_layout(html)
    assert "页面不存在" in html and "elsewhere.example" not in html  # never a link back to another site
    assert "URLconf" not in html and "Page not found" not in html
    assert browser_client.get("/api/no-such/").json()["code"] == "not_found"


def test_a_form_without_its_csrf_token_is_a_chinese_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "cadre", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    _in_layout(html)
    assert "页面已过期" in html and "CSRF" not in html


def test_the_embedded_run_has_chinese_error_pages_and_still_serves_static_files():
    """The default environment (what `make run` uses): DEBUG=1 means development, yet no technical pages."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup();"
        "from django.conf import settings; from django.test import Client;"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "c = Client(); r = c.get('/no-such-page/'); s = c.get('/static/css/app.css');"
        "print(settings.DEBUG, r.status_code, '页面不存在' in r.content.decode(), s.status_code)"
    )
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.stdout.split() == ["False", "404", "True", "200"], result.stderr[-2000:]
