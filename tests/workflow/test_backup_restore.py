"""scripts/backup and scripts/restore on the real database: the restored copy holds the same rows and verifies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection

from tests.conftest import ROOT, _test_database_url, needs_postgresql, require_programs
from workflow.history import history_anchor
from workflow.models import Decision, HistoryEntry

from .helpers import act, drive_to_proposed, meeting


def run_script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def documents_queued() -> Iterator[None]:
    """The decision's documents stay queued: rendering PDFs is not what this test is about (and slow)."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = saved


def row_counts(database: str | None = None) -> dict[str, int]:
    tables = sorted(m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy)
    # Table names come from the models, not from input.
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {connection.ops.quote_name(t)}"  # noqa: S608
                             for t in tables)
    if database is None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return dict(cursor.fetchall())
    s = connection.settings_dict
    out = subprocess.run(["psql", "-X", "-tA", "-F", "\t", "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432),
                          "-U", s["USER"], "-d", database, "-c", sql], capture_output=True, text=True, check=True)
    return {t: int(n) for t, n in (line.split("\t") for line in out.stdout.strip().splitlines())}


@needs_postgresql()
@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_an_empty_database_with_the_same_rows_and_a_verifying_history(
        api, world, tmp_path, settings, documents_queued):
    require_programs("pg_dump", "pg_restore", "psql", "createdb")
    settings.MEDIA_ROOT = media = tmp_path / "media"
    (media / "evidence" / "1").mkdir(parents=True)
    (media / "evidence" / "1" / "现场照片.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 512)
    case = drive_to_proposed(api, world)
    decided = act(api("committee"), case["id"], "decide", {"outcome": "exempt", "resolution": "免责。", **meeting()})
    assert decided.status_code == 200, decided.content
    history_anchor()
    before = row_counts()
    assert before["workflow_historyentry"] == HistoryEntry.objects.count() > 5
    assert before["workflow_decision"] == Decision.objects.count() == 1

    source_url = _test_database_url()
    backup = tmp_path / "backup"
    made = run_script("backup", str(backup), DATABASE_URL=source_url, MEDIA_ROOT=str(media))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup / "MANIFEST.json").read_text(encoding="utf-8"))
    files = {f["path"]: f for f in manifest["files"]}
    assert set(files) == {"database.dump", "media/evidence/1/现场照片.png"}
    assert all(len(f["sm3"]) == 64 and len(f["sha256"]) == 64 and f["sm3"] != f["sha256"] for f in files.values())

    # A damaged copy is refused before any database is touched.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with (damaged / "database.dump").open("r+b") as dump:
        dump.seek(100)
        byte = dump.read(1)
        dump.seek(100)
        dump.write(bytes([byte[0] ^ 0xFF]))
    target = f"{connection.settings_dict['NAME']}_restored"
    target_url = source_url.rsplit("/", 1)[0] + "/" + target
    subprocess.run(["psql", "-X", "-q", "-d", source_url.rsplit("/", 1)[0] + "/postgres", "-c",
                    f'DROP DATABASE IF EXISTS "{target}"'], check=True, capture_output=True)
    try:
        refused = run_script("restore", str(damaged), "--database-url", target_url,
                             "--media-root", str(tmp_path / "restored-media-x"))
        assert refused.returncode == 1
        assert "database.dump" in refused.stderr and "与清单不符" in refused.stderr
        assert refused.stderr.strip().count("\n") == 0

        restored = run_script("restore", str(backup), "--database-url", target_url,
                              "--media-root", str(tmp_path / "restored-media"),
                              HISTORY_HMAC_KEY=settings.HISTORY_HMAC_KEY)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert f"共校验 {before['workflow_historyentry']} 条" in restored.stdout
        assert "与 1 个锚点相符" in restored.stdout
        assert "全部 1 项决定均可按当时的规则版本复现" in restored.stdout
        assert row_counts(target) == before
        assert (tmp_path / "restored-media" / "evidence" / "1" / "现场照片.png").read_bytes() == (
            media / "evidence" / "1" / "现场照片.png").read_bytes()

        again = run_script("restore", str(backup), "--database-url", target_url,
                           "--media-root", str(tmp_path / "restored-media-2"))
        assert again.returncode == 1 and "不是空库" in again.stderr
    finally:
        subprocess.run(["psql", "-X", "-q", "-d", source_url.rsplit("/", 1)[0] + "/postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{target}"'], check=False, capture_output=True)
