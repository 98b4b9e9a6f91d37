"""The keyed history chain (HMAC-SM3) and its anchors: what an attacker without the key cannot hide."""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from tests.conftest import needs_postgresql
from tests.foundation.test_configuration import ROOT, run_manage
from workflow.history import Actor, history_anchor, history_append, history_verify
from workflow.models import ChainHead, HistoryAction, HistoryAnchor, HistoryEntry
from workflow.tasks import history_anchor_write

_append_only = importlib.import_module("workflow.migrations.0002_history_append_only")
_keyed = importlib.import_module("workflow.migrations.0009_history_hmac_sm3_and_anchors")
SYSTEM = Actor(user=None, role="system", via="command")


def append(count: int, *, reason: str = "测试记录") -> list[HistoryEntry]:
    with transaction.atomic():
        return [history_append(case_id=None, actor=SYSTEM, action=HistoryAction.RULESET_MIGRATE,
                               reason=f"{reason} {i}") for i in range(count)]


@contextmanager
def triggers_bypassed() -> Iterator:
    """What a database superuser can do: write past the append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield cursor
            finally:
                cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS workflow_history_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS workflow_anchor_no_update")
            try:
                yield cursor
            finally:
                cursor.execute(_append_only.SQLITE_UP)
                cursor.execute(_keyed.SQLITE_ANCHOR_UP)


def unkeyed_digest(entry: HistoryEntry) -> str:
    """The digest anyone can recompute from the source code: SHA-256 of the canonical entry."""
    from workflow.history import entry_digest

    legacy = copy.copy(entry)
    legacy.algorithm = "sha256"
    return entry_digest(legacy)


def rewrite_chain(start: HistoryEntry, digest, *, algorithm: str | None = None) -> None:
    """Edit ``start`` and recompute every later link with ``digest``, head included."""
    entries = list(HistoryEntry.objects.filter(pk__gte=start.pk).order_by("id"))
    prev = entries[0].prev_hash
    with triggers_bypassed() as cursor:
        for entry in entries:
            if entry.pk == start.pk:
                entry.reason = "改写后的理由"
            if algorithm is not None:
                entry.algorithm = algorithm
            entry.prev_hash = prev
            entry.hash = digest(entry)
            cursor.execute(
                "UPDATE workflow_historyentry SET reason = %s, algorithm = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [entry.reason, entry.algorithm, entry.prev_hash, entry.hash, entry.pk])
            prev = entry.hash
    ChainHead.objects.filter(pk=1).update(last_hash=prev)


@pytest.mark.django_db
def test_new_entries_are_keyed_with_hmac_sm3(settings):
    entry = append(1)[0]
    assert entry.algorithm == "hmac-sm3"
    assert len(entry.hash) == 64
    assert entry.hash != unkeyed_digest(entry)
    assert history_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize("attack", ["unkeyed", "downgraded", "guessed-key"])
def test_entry_edited_and_recomputed_without_the_key_fails_verification(attack):
    entries = append(5)
    victim = entries[2]
    if attack == "unkeyed":
        rewrite_chain(victim, unkeyed_digest)
    elif attack == "downgraded":
        rewrite_chain(victim, unkeyed_digest, algorithm="sha256")
    else:
        rewrite_chain(victim, lambda e: hmac.new(b"guessed", str(e.pk).encode(), "sm3").hexdigest())
    assert HistoryEntry.objects.get(pk=victim.pk).reason == "改写后的理由"

    report = history_verify()

    assert not report.ok
    assert report.broken_id == victim.pk
    assert report.checked == 2


@pytest.mark.django_db
def test_whole_chain_downgraded_to_sha256_fails_verification():
    entries = append(4)
    rewrite_chain(entries[0], unkeyed_digest, algorithm="sha256")

    report = history_verify()

    assert not report.ok
    assert report.broken_id == entries[0].pk
    assert "无密钥" in report.problem


@pytest.mark.django_db
def test_another_key_does_not_verify_the_chain(settings):
    append(2)
    settings.HISTORY_HMAC_KEY = "another-key-" + "x" * 40
    report = history_verify()
    assert not report.ok
    assert "HISTORY_HMAC_KEY" in report.problem


@pytest.mark.django_db
def test_entries_written_before_keying_still_verify_once_the_migration_anchored_them():
    from django.apps import apps

    legacy = []
    prev = "0" * 64
    for i in range(3):
        entry = HistoryEntry(actor_name="系统", at=timezone.now(), action=HistoryAction.RULESET_MIGRATE, reason=f"旧记录 {i}", prev_hash=prev, algorithm="sha256")
        entry.hash = unkeyed_digest(entry)
        entry.save(force_insert=True)
        legacy.append(entry)
        prev = entry.hash
    ChainHead.objects.update_or_create(pk=1, defaults={"last_hash": prev})
    # Unkeyed entries no anchor covers could have been forged by anyone.
    assert not history_verify().ok

    _keyed.anchor_legacy_entries(apps, None)
    append(2)

    report = history_verify()
    assert report.ok, report.problem
    assert report.checked == 5
    assert HistoryEntry.objects.filter(algorithm="sha256").count() == 3


@pytest.mark.django_db
def test_truncated_history_fails_against_the_anchor(capsys):
    append(5)
    call_command("anchor_history")
    with triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM workflow_historyentry")

    report = history_verify()

    assert not report.ok
    assert report.checked == 0
    assert "只有 0 条" in report.problem and "记为 5 条" in report.problem
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_history")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "只有 0 条" in err, err


@pytest.mark.django_db
def test_rolled_back_tail_fails_against_the_anchor():
    entries = append(5)
    history_anchor()
    with triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM workflow_historyentry WHERE id > %s", [entries[2].pk])
    # A careful attacker also rewinds the head.
    ChainHead.objects.filter(pk=1).update(last_hash=entries[2].hash)

    report = history_verify()

    assert not report.ok
    assert "只有 3 条" in report.problem and "记为 5 条" in report.problem


@pytest.mark.django_db
def test_anchor_goes_to_the_audit_record_and_verify_names_it(capsys):
    entries = append(3)
    anchor_id = history_anchor_write()

    anchor = HistoryAnchor.objects.get(pk=anchor_id)
    assert (anchor.count, anchor.last_id, anchor.last_hash) == (3, entries[-1].pk, entries[-1].hash)
    event = AuditEvent.objects.get(action=AuditAction.HISTORY_ANCHOR)
    assert event.success and event.object_id == str(anchor.pk)
    assert entries[-1].hash in event.detail and "3 条" in event.detail
    append(2)
    call_command("verify_history")
    out = capsys.readouterr().out
    assert "共校验 5 条" in out and "与 1 个锚点相符" in out


@pytest.mark.django_db
def test_anchor_edited_or_deleted_is_detected():
    append(3)
    anchor, _ = history_anchor()
    with triggers_bypassed() as cursor:
        cursor.execute("UPDATE workflow_historyanchor SET count = 2 WHERE id = %s", [anchor.pk])
    assert "校验码不符" in history_verify().problem
    with triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM workflow_historyanchor")
    assert "锚点被删除" in history_verify().problem


@pytest.mark.django_db
def test_anchoring_a_chain_that_lost_its_tail_is_marked_failed(capsys):
    entries = append(4)
    history_anchor()
    with triggers_bypassed() as cursor:
        cursor.execute("DELETE FROM workflow_historyentry WHERE id = %s", [entries[-1].pk])
    with pytest.raises(SystemExit):
        call_command("anchor_history")
    assert "锚点记录为 4 条，现为 3 条" in capsys.readouterr().err
    assert AuditEvent.objects.filter(action=AuditAction.HISTORY_ANCHOR, success=False).count() == 1


@pytest.mark.django_db
def test_database_refuses_to_rewrite_an_anchor():
    append(1)
    anchor, _ = history_anchor()
    with pytest.raises(Exception) as excinfo, transaction.atomic():
        HistoryAnchor.objects.filter(pk=anchor.pk).update(count=0)
    assert "append-only" in str(excinfo.value)


@needs_postgresql()
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    "TRUNCATE workflow_historyentry",
    "TRUNCATE workflow_historyanchor",
    "TRUNCATE cases_case CASCADE",
])
def test_postgresql_refuses_truncate_of_the_history(statement):
    entries = append(3)
    history_anchor()
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the rows above first, or TRUNCATE refuses for that reason.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement)
    assert "TRUNCATE refused" in str(excinfo.value)
    assert HistoryEntry.objects.count() == 3 and HistoryAnchor.objects.count() == 1
    assert history_verify().ok and HistoryEntry.objects.last().hash == entries[-1].hash


def test_beat_schedules_the_anchor(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["anchor-history"]
    assert entry["schedule"] == float(settings.HISTORY_ANCHOR_SECONDS)
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 60 + "-a-long-random-production-key", "ALLOWED_HOSTS": "example.gov"}


def test_production_refuses_to_start_without_history_key():
    result = run_manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "HISTORY_HMAC_KEY" in result.stderr


def test_production_refuses_a_short_or_demo_history_key():
    from config.settings import DEMO_HISTORY_HMAC_KEY

    for key in ("short", DEMO_HISTORY_HMAC_KEY):
        result = run_manage("check", HISTORY_HMAC_KEY=key, **PRODUCTION)
        assert result.returncode != 0 and "HISTORY_HMAC_KEY" in result.stderr, result.stderr


def test_production_refuses_to_start_without_sm3():
    # An OpenSSL without SM3, simulated: the settings probe hmac.new(..., "sm3").
    probe = ("import hmac; real = hmac.new\n"
             "def new(key, msg=None, digestmod=''):\n"
             "    if digestmod == 'sm3': raise ValueError('unsupported hash type sm3')\n"
             "    return real(key, msg, digestmod)\n"
             "hmac.new = new\n"
             "import django; django.setup()\n")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env.update(PRODUCTION, HISTORY_HMAC_KEY="k" * 40, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode != 0
    assert "SM3" in result.stderr.strip().splitlines()[-1]


def test_sm3_is_available_here():
    # GB/T 32905-2016 test vector: SM3("abc").
    assert hashlib.new("sm3", b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


@pytest.mark.django_db
def test_admin_lists_anchors_read_only(client, world):
    append(2)
    anchor, _ = history_anchor()
    client.force_login(world.users["admin"])
    page = client.get("/admin/workflow/historyanchor/")
    assert page.status_code == 200 and anchor.last_hash in page.content.decode()
    assert client.get("/admin/workflow/historyanchor/add/").status_code == 403
    assert client.post(f"/admin/workflow/historyanchor/{anchor.pk}/delete/", {"post": "yes"}).status_code == 403
    assert HistoryAnchor.objects.filter(pk=anchor.pk, count=2).exists()
