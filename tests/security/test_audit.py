"""The audit record: what is recorded (who, when, what, from where, result), who may read and export it,
that nobody can change it, and that the purge keeps at least 183 days."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditAction, AuditEvent, ImmutableAuditError
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters))


@pytest.fixture
def case(world):
    from cases.models import Case
    from workflow.management.demo.cases import demo_cases_seed

    demo_cases_seed(world=world)
    return Case.objects.filter(subject__unit__name="张家口市生态环境局").first()


def test_login_logout_and_failed_login_are_recorded_with_address(client, world):
    client.post("/login/", {"username": "cadre", "password": "wrong-Passw0rd!"}, REMOTE_ADDR="10.2.3.4")
    client.post("/login/", {"username": "cadre", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.2.3.5")
    client.post("/logout/", REMOTE_ADDR="10.2.3.6")

    failed, = _events(AuditAction.LOGIN_FAILED)
    assert (failed.username, failed.success, failed.ip, failed.user_id) == ("cadre", False, "10.2.3.4", None)
    login, = _events(AuditAction.LOGIN)
    assert (login.username, login.user_id, login.success, login.ip) == ("cadre", world.users["cadre"].pk, True,
                                                                       "10.2.3.5")
    assert timezone.now() - login.at < dt.timedelta(minutes=1)
    logout, = _events(AuditAction.LOGOUT)
    assert (logout.username, logout.ip) == ("cadre", "10.2.3.6")


def test_lockout_and_api_token_issue_are_recorded(client, world):
    for _ in range(5):
        client.post("/login/", {"username": "orgdept", "password": "wrong-Passw0rd!"})
    lockout, = _events(AuditAction.LOCKOUT)
    assert lockout.username == "orgdept" and not lockout.success

    client.post("/api/auth/token/", {"username": "cadre", "password": DEMO_PASSWORD}, content_type="application/json")
    token_login, = _events(AuditAction.LOGIN, username="cadre")
    assert token_login.path == "/api/auth/token/" and "API 令牌" in token_login.detail


def test_password_change_is_recorded(client, world):
    client.force_login(world.users["cadre"])
    new = "Nq#7-vTk-2031"
    client.post("/password/", {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new},
                REMOTE_ADDR="10.7.7.7")
    event, = _events(AuditAction.PASSWORD_CHANGE, ip="10.7.7.7")
    assert (event.username, event.ip, event.success, event.detail) == ("cadre", "10.7.7.7", True, "本人修改")


def test_case_reads_and_document_routes_are_recorded(client, world, case):
    client.force_login(world.users["inspector"])
    client.get(f"/cases/{case.pk}/", REMOTE_ADDR="10.1.1.1")
    client.get(f"/api/cases/{case.pk}/")
    client.get(f"/api/cases/{case.pk}/documents/")

    reads = _events(AuditAction.READ)
    assert [(e.route, e.object_type, e.object_id, e.username) for e in reversed(reads)] == [
        ("case-detail", "case", str(case.pk), "inspector"),
        ("api-case", "case", str(case.pk), "inspector"),
        ("reports_api:case-documents", "case", str(case.pk), "inspector"),
    ]
    assert reads[-1].ip == "10.1.1.1"


def test_404_on_an_object_route_and_every_403_are_recorded(client, world, case):
    client.force_login(world.users["inspector2"])  # Zhengzhou: a Zhangjiakou case is not visible
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get("/filings/").status_code == 403
    client.get("/no-such-page/")  # not an object route: not recorded

    not_found, = _events(AuditAction.NOT_FOUND)
    assert (not_found.username, not_found.object_id, not_found.success) == ("inspector2", str(case.pk), False)
    denied, = _events(AuditAction.DENIED)
    assert denied.route == "reports:filing-register" and denied.status_code == 403
    assert not _events(AuditAction.READ)


def test_admin_changes_are_recorded(client, world):
    client.force_login(world.users["admin"])
    client.post("/admin/accounts/user/", {"action": "force_password_reset",
                                          "_selected_action": [world.users["cadre"].pk]})
    org = world.orgs["zjk_env"]
    client.post(f"/admin/accounts/organisation/{org.pk}/change/", {
        "name": org.name, "short_name": "环", "kind": org.kind, "level": org.level, "parent": org.parent_id,
        "jurisdiction": org.jurisdiction, "managing_committee": ""})

    changes = _events(AuditAction.ADMIN_CHANGE, username="admin")
    details = " | ".join(e.detail for e in changes)
    assert "force_password_reset" in details
    assert any(e.object_type == "organisation" and e.object_id == str(org.pk) for e in changes), details


def test_export_downloads_are_recorded(client, world):
    auditor = world.users["auditor"]
    client.force_login(auditor)
    client.get("/audit/export/?format=csv")
    export, = _events(AuditAction.EXPORT)
    assert export.username == "auditor" and export.route == "audit:export"


def test_only_the_auditor_reads_and_exports(client, world):
    for username in ("admin", "inspector", "committee", "cadre"):
        client.force_login(world.users[username])
        assert client.get("/audit/").status_code == 403, username
        assert client.get("/audit/export/?format=csv").status_code == 403, username
        assert client.get("/admin/audit/auditevent/").status_code in (302, 403), username
    client.force_login(world.users["auditor"])
    page = client.get("/audit/?action=denied")
    assert page.status_code == 200 and "拒绝访问" in page.content.decode()
    assert "审计记录" in client.get("/").content.decode()
    assert client.get("/admin/audit/auditevent/").status_code == 200


def test_superuser_in_the_auditor_group_is_still_refused(client, world, settings):
    from django.contrib.auth.models import Group

    admin = world.users["admin"]
    admin.groups.add(Group.objects.get(name=settings.AUDIT_AUDITOR_GROUP))
    client.force_login(admin)
    assert client.get("/audit/").status_code == 403


def test_auditor_searches_and_exports_csv_and_xlsx(client, world):
    client.post("/login/", {"username": "cadre", "password": "=cmd|' /C calc'!A0"}, REMOTE_ADDR="10.9.0.1")
    client.force_login(world.users["auditor"])

    page = client.get("/audit/?username=cadre&success=0").content.decode()
    assert "登录失败" in page and "10.9.0.1" in page
    bad = client.get("/audit/?from=2026-13-40")
    assert bad.status_code == 400 and "日期格式无效" in bad.content.decode()

    response = client.get("/audit/export/?username=cadre&format=csv")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间", "用户名", "用户 ID", "事件"]
    assert rows[1][1] == "cadre" and rows[1][3] == "登录失败" and rows[1][5] == "10.9.0.1"

    xlsx = client.get("/audit/export/?username=cadre&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:4][1] == "cadre"


def test_nobody_can_change_or_delete_a_record(client, world):
    event = AuditEvent.objects.create(action=AuditAction.LOGIN, success=True, username="x")
    event.detail = "changed"
    with pytest.raises(ImmutableAuditError):
        event.save()
    with pytest.raises(ImmutableAuditError):
        event.delete()
    with pytest.raises(ImmutableAuditError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="changed")
    with pytest.raises(ImmutableAuditError):
        AuditEvent.objects.all().delete()
    # Below the ORM the database trigger refuses too.
    with pytest.raises(Exception, match="审计记录不可修改"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [event.pk])
    client.force_login(world.users["auditor"])
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"detail": "x"}).status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_purge_refuses_records_younger_than_183_days(world):
    AuditEvent.objects.create(action=AuditAction.LOGIN, success=True, username="recent")
    with pytest.raises(CommandError, match="183"):
        call_command("audit_purge", "--older-than-days", "30")
    with pytest.raises(CommandError, match="183"):
        call_command("audit_purge", "--before", timezone.localdate().isoformat())
    assert AuditEvent.objects.filter(username="recent").exists()


def test_purge_deletes_records_past_the_retention(world):
    old = AuditEvent.objects.create(action=AuditAction.LOGIN, success=True, username="old")
    with connection.cursor() as cursor:  # back-date below the ORM (the model refuses updates)
        cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update") if connection.vendor == "sqlite" else None
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_guard")
        cursor.execute("UPDATE audit_auditevent SET at = %s WHERE id = %s",
                       [timezone.now() - dt.timedelta(days=200), old.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_guard")
    AuditEvent.objects.create(action=AuditAction.LOGIN, success=True, username="new")

    call_command("audit_purge")

    assert list(AuditEvent.objects.filter(username__in=["old", "new"]).values_list("username", flat=True)) == ["new"]


def test_retention_setting_cannot_go_below_183_days():
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["AUDIT_RETENTION_DAYS"] = "90"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "AUDIT_RETENTION_DAYS" in result.stderr


def test_session_timeout_is_recorded(client, world, settings):
    import time

    client.post("/login/", {"username": "cadre", "password": DEMO_PASSWORD})
    session = client.session
    session["_seen_at"] = time.time() - (settings.SESSION_IDLE_MINUTES + 1) * 60
    session.save()

    client.get("/mine/")

    event, = _events(AuditAction.SESSION_TIMEOUT)
    assert (event.username, event.detail) == ("cadre", "空闲超时")


def test_the_search_pages_by_position_newest_first_and_counts_to_a_bound(client, world):
    """Keyset pages: every matching event once, newest first, ties in time included, forward and back;
    the username is matched whatever its case, from its own index on PostgreSQL."""
    from unittest import mock

    from listing.keyset import COUNT_BOUND

    # Ten events share each second: a page boundary falls inside a tie. (The record cannot be changed
    # afterwards, so the clock is set while they are written.)
    base = timezone.now().replace(microsecond=0)
    for second in range(13):
        with mock.patch("django.utils.timezone.now", return_value=base - dt.timedelta(seconds=second)):
            AuditEvent.objects.bulk_create([AuditEvent(username="Paging", action=AuditAction.READ, success=True,
                                                       path=f"/cases/{second}/") for _ in range(10)])
    expected = list(AuditEvent.objects.filter(username="Paging").order_by("-at", "-id").values_list("pk", flat=True))
    client.force_login(world.users["auditor"])
    pages = [client.get("/audit/?username=paging")]
    while pages[-1].context["page"].next_position:
        pages.append(client.get(f"/audit/?username=paging&after={pages[-1].context['page'].next_position}"))
    assert [[e.pk for e in p.context["page"].rows] for p in pages] == [expected[:50], expected[50:100], expected[100:]]
    assert "共 130 条" in pages[0].content.decode() and 'rel="next"' in pages[0].content.decode()
    back = client.get(f"/audit/?username=paging&before={pages[-1].context['page'].previous_position}")
    assert [e.pk for e in back.context["page"].rows] == expected[50:100]
    broken = client.get("/audit/?username=paging&after=nonsense")
    assert "翻页位置无效" in broken.content.decode() and [e.pk for e in broken.context["page"].rows] == expected[:50]
    AuditEvent.objects.bulk_create([AuditEvent(username="Paging", action=AuditAction.READ, success=True)
                                    for _ in range(COUNT_BOUND)])
    assert f"{COUNT_BOUND:,} 条以上" in client.get("/audit/?username=PAGING").content.decode()
    if connection.vendor == "postgresql":
        from audit.selectors import audit_events

        with connection.cursor() as cursor:
            # A record where this user is one in thirty, and statistics of the rows just written: left to
            # autovacuum, the planner may still think the table holds three rows (a three-row sort is cheaper
            # than any index walk), or that every row is this user's (then walking the time index is as good).
            AuditEvent.objects.bulk_create([AuditEvent(username=f"other{i % 50}", action=AuditAction.READ,
                                                       success=True) for i in range(30000)], batch_size=5000)
            cursor.execute("ANALYZE audit_auditevent")
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = audit_events({"username": "paging"}).order_by("-at", "-id")[:51].query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "audit_username_at_idx" in plan and "Sort" not in plan, plan
