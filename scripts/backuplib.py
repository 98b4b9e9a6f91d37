"""Backup and restore of the database (pg_dump custom format) and the media folder, with a manifest.

Used by ``scripts/backup`` and ``scripts/restore``; needs only the standard library and the PostgreSQL
client programs (pg_dump, pg_restore, psql), so it runs where Django is not installed. The manifest
lists every file of the backup with its size, SM3 (国密, GB/T 32905) and SHA-256; a restore checks all
of them before it touches the database, and only ever restores into an empty database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "MANIFEST.json"
DUMP = "database.dump"
MEDIA = "media"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """One Chinese line for the operator; the script exits 1."""


def _require_sm3() -> None:
    try:
        hashlib.new("sm3")
    except ValueError:
        raise BackupError("本 Python 所链接的 OpenSSL 不提供 SM3，无法生成或核对备份清单：请使用链接 OpenSSL 3 的 Python") from None


@dataclass(frozen=True)
class Database:
    name: str
    env: dict[str, str]  # PGHOST, PGPORT, PGUSER, PGPASSWORD for the client programs

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise BackupError(f"备份与恢复只支持 PostgreSQL：DATABASE_URL 应为 postgres://…，而不是 {parts.scheme or '空'}")
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise BackupError("DATABASE_URL 中缺少数据库名")
        env = {"PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432)}
        if parts.username:
            env["PGUSER"] = unquote(parts.username)
        if parts.password:
            env["PGPASSWORD"] = unquote(parts.password)
        return cls(name=name, env=env)

    def run(self, *args: str, database: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.env, "PGDATABASE": database or self.name}
        try:
            return subprocess.run(list(args), env=env, capture_output=True, text=True, check=False, timeout=3600)
        except FileNotFoundError:
            raise BackupError(f"找不到 {args[0]}：请安装 PostgreSQL 客户端（postgresql-client）") from None

    def query(self, sql: str, *, database: str | None = None) -> str:
        result = self.run("psql", "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql, database=database)
        if result.returncode != 0:
            raise BackupError(f"无法查询数据库 {database or self.name}：{_first_line(result.stderr)}")
        return result.stdout.strip()


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "（无输出）"


def file_digests(path: Path) -> dict[str, object]:
    sm3, sha256 = hashlib.new("sm3"), hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sm3.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return {"size": size, "sm3": sm3.hexdigest(), "sha256": sha256.hexdigest()}


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def backup(*, database_url: str, media_root: Path, out: Path) -> Path:
    """Dump the database and copy the media folder into ``out`` (which must not exist), then write the manifest."""
    _require_sm3()
    db = Database.from_url(database_url)
    if out.exists():
        raise BackupError(f"备份目录 {out} 已存在：请指定新的目录")
    out.mkdir(parents=True)
    result = db.run("pg_dump", "--format=custom", "--file", str(out / DUMP), db.name)
    if result.returncode != 0:
        shutil.rmtree(out)
        raise BackupError(f"pg_dump 失败：{_first_line(result.stderr)}")
    if media_root.is_dir():
        shutil.copytree(media_root, out / MEDIA)
    else:
        (out / MEDIA).mkdir()
    version = db.run("pg_dump", "--version").stdout.strip()
    files = []
    for path in _files_under(out):
        files.append({"path": path.relative_to(out).as_posix(), **file_digests(path)})
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": db.name,
        "pg_dump": version,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    # The same digests in the form sm3sum/sha256sum -c (and `openssl dgst -sm3`) can check by hand.
    (out / "SM3SUMS").write_text("".join(f"{f['sm3']}  {f['path']}\n" for f in files), encoding="utf-8")
    (out / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in files), encoding="utf-8")
    return out


def manifest_check(folder: Path) -> dict[str, object]:
    """Every listed file present with its size, SM3 and SHA-256, and no file the manifest does not list."""
    _require_sm3()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} 中没有备份清单 {MANIFEST}") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"备份清单 {MANIFEST} 无法解析：{exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份清单格式 {manifest.get('format')!r} 不受支持")
    listed = {f["path"]: f for f in manifest.get("files", [])}
    if DUMP not in listed:
        raise BackupError(f"备份清单中没有 {DUMP}")
    present = {p.relative_to(folder).as_posix() for p in _files_under(folder)} - {MANIFEST, "SM3SUMS", "SHA256SUMS"}
    missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
    if missing:
        raise BackupError(f"备份不完整：清单列出的 {missing[0]} 不存在")
    if extra:
        raise BackupError(f"备份中有清单未列出的文件 {extra[0]}（备份被改动）")
    for path, expected in sorted(listed.items()):
        actual = file_digests(folder / path)
        for key in ("size", "sm3", "sha256"):
            if actual[key] != expected.get(key):
                raise BackupError(f"备份文件 {path} 的 {key.upper()} 与清单不符（文件损坏或被改动）")
    return manifest


def _database_is_empty(db: Database) -> bool:
    count = db.query(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
        "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")
    return count == "0"


def _database_exists(db: Database) -> bool:
    name = db.name.replace("'", "''")
    return db.query(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", database="postgres") == "1"  # noqa: S608


def restore(*, folder: Path, database_url: str, media_root: Path) -> None:
    """Check the manifest, then restore into an empty (or new) database and an empty media folder."""
    manifest_check(folder)
    db = Database.from_url(database_url)
    if _database_exists(db):
        if not _database_is_empty(db):
            raise BackupError(f"目标数据库 {db.name} 不是空库：只能恢复到空数据库（请新建一个）")
    else:
        result = db.run("createdb", db.name, database="postgres")
        if result.returncode != 0:
            raise BackupError(f"无法创建数据库 {db.name}：{_first_line(result.stderr)}")
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"媒体目录 {media_root} 不是空目录：只能恢复到空目录")
    result = db.run("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                    "--dbname", db.name, str(folder / DUMP))
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败：{_first_line(result.stderr)}")
    media_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder / MEDIA, media_root, dirs_exist_ok=True)


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return os.environ.get("PYTHON") or (str(venv) if venv.exists() else sys.executable)


def verify_restored(*, database_url: str, media_root: Path) -> bool:
    """verify_history and verify_decisions on the restored copy; their output goes to ours."""
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    ok = True
    for command in ("verify_history", "verify_decisions"):
        result = subprocess.run([_python(), str(ROOT / "manage.py"), command], env=env, cwd=ROOT,
                                capture_output=True, text=True, check=False, timeout=3600)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        ok = ok and result.returncode == 0
    return ok


def main_backup(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/backup", description="备份数据库（pg_dump 自定义格式）与媒体目录，并生成 SM3/SHA-256 清单。")
    parser.add_argument("out", nargs="?", help="备份目录（不得已存在；默认 backups/backup-<UTC 时间>）")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--media-root", default=os.environ.get("MEDIA_ROOT", str(ROOT / "media")))
    args = parser.parse_args(argv)
    out = Path(args.out or ROOT / "backups" / f"backup-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
    try:
        backup(database_url=args.database_url, media_root=Path(args.media_root), out=out)
    except BackupError as exc:
        sys.stderr.write(f"备份失败：{exc}\n")
        return 1
    count = len(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"])
    print(f"备份完成：{out}（{count} 个文件，清单 {MANIFEST} 含各文件的 SM3 与 SHA-256）")
    return 0


def main_restore(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/restore", description="核对备份清单后，恢复到空数据库与空媒体目录，并校验操作记录与决定。")
    parser.add_argument("folder", help="scripts/backup 生成的备份目录")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="目标数据库（须为空库或尚不存在）")
    parser.add_argument("--media-root", default=os.environ.get("MEDIA_ROOT", str(ROOT / "media")),
                        help="目标媒体目录（须为空或尚不存在）")
    parser.add_argument("--no-verify", action="store_true", help="恢复后不运行 verify_history 与 verify_decisions")
    args = parser.parse_args(argv)
    media_root = Path(args.media_root)
    try:
        restore(folder=Path(args.folder), database_url=args.database_url, media_root=media_root)
    except BackupError as exc:
        sys.stderr.write(f"恢复失败：{exc}\n")
        return 1
    print(f"已恢复到数据库 {Database.from_url(args.database_url).name}，媒体目录 {media_root}")
    if args.no_verify:
        return 0
    if not verify_restored(database_url=args.database_url, media_root=media_root):
        sys.stderr.write("恢复后的校验未通过：见上。\n")
        return 1
    return 0
