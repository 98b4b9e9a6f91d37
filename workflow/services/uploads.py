"""Uploaded files: checked before anything is written, stored as evidence with their digest.

A file is accepted when its content (magic bytes, and for the ZIP-based formats the parts inside) is one of
``ALLOWED_UPLOAD_TYPES`` and its extension names that same type: an executable renamed ``.pdf`` is refused.
Quotas (settings, from the environment): bytes per file, files and bytes per request, bytes per case.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import uuid
import zipfile
from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from cases.models import Case, Evidence
from cases.services import evidence_write

from ..errors import InvalidInput
from ..history import Actor
from ..models import PendingUpload

# Extension -> (content type detected, what the user is told). Old binary Office files (.doc/.xls, which
# may carry macros), archives, plain text and other images are not accepted.
ALLOWED_UPLOAD_TYPES: dict[str, tuple[str, str]] = {
    ".pdf": ("pdf", "PDF"),
    ".jpg": ("jpeg", "JPEG 图片"),
    ".jpeg": ("jpeg", "JPEG 图片"),
    ".png": ("png", "PNG 图片"),
    ".docx": ("docx", "Word 文档（.docx）"),
    ".xlsx": ("xlsx", "Excel 表格（.xlsx）"),
    ".ofd": ("ofd", "OFD 版式文件"),
}
KIND_LABELS = {kind: label for kind, label in ALLOWED_UPLOAD_TYPES.values()}
# The per-file limit as configured at start-up (the checks read the settings, so tests may change them).
MAX_UPLOAD_BYTES = settings.UPLOAD_MAX_FILE_BYTES
# Reading a ZIP's directory is cheap; one with more entries than this is not an office document.
MAX_ZIP_ENTRIES = 10_000


def _mb(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} 字节"


def _zip_kind(upload: UploadedFile) -> str | None:
    """DOCX, XLSX or OFD from the names inside the archive (its directory only: nothing is decompressed)."""
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return None
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    if "OFD.xml" in names:  # GB/T 33190: the entry file at the root of the package
        return "ofd"
    return None


def content_kind(upload: UploadedFile) -> str | None:
    """What the file is by its content: pdf, jpeg, png, docx, xlsx, ofd, or None for anything else."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    kind: str | None = None
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(upload)
        upload.seek(0)
    return kind


def upload_check(upload: UploadedFile, *, field: str = "file") -> tuple[str, str]:
    """Validate an upload before anything is written; returns its safe name and extension."""
    base = os.path.basename(upload.name or "")
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    name = stem[: 200 - len(ext)] + ext
    shown = base[:60]
    if not base:
        raise InvalidInput("请选择要上传的文件。", field=field)
    allowed = "、".join(dict.fromkeys(label for _, label in ALLOWED_UPLOAD_TYPES.values()))
    if ext not in ALLOWED_UPLOAD_TYPES:
        raise InvalidInput(f"{shown}：不支持的文件类型 {ext or '（无扩展名）'}，只接受 {allowed}。", field=field)
    if upload.size is None or upload.size == 0:
        raise InvalidInput(f"{shown}：文件为空。", field=field)
    if upload.size > settings.UPLOAD_MAX_FILE_BYTES:
        raise InvalidInput(f"{shown}：单个文件不能超过 {_mb(settings.UPLOAD_MAX_FILE_BYTES)}"
                           f"（本文件 {_mb(upload.size)}）。", field=field)
    expected, label = ALLOWED_UPLOAD_TYPES[ext]
    actual = content_kind(upload)
    if actual is None:
        raise InvalidInput(f"{shown}：文件内容不是 {label}，也不是其他允许的类型（{allowed}），"
                           "可能是改了扩展名的其他文件。", field=field)
    if actual != expected:
        raise InvalidInput(f"{shown}：扩展名 {ext} 与文件内容（{KIND_LABELS[actual]}）不符，"
                           "请使用正确的扩展名重新上传。", field=field)
    return name, ext


def case_stored_bytes(case: Case | None) -> int:
    if case is None or case.pk is None:
        return 0
    return Evidence.objects.filter(case=case).aggregate(total=Sum("size"))["total"] or 0


def _case_quota_check(case: Case | None, adding: int, *, field: str) -> None:
    limit = settings.UPLOAD_MAX_CASE_BYTES
    stored = case_stored_bytes(case)
    if stored + adding > limit:
        raise InvalidInput(f"每个案件的材料总量不能超过 {_mb(limit)}：已有 {_mb(stored)}，本次 {_mb(adding)}。",
                           field=field)


def uploads_check(files: Sequence[UploadedFile], *, case: Case | None = None,
                  field: str = "attachments") -> list[tuple[str, str]]:
    """Check every file of one request, then the request's quotas (count, bytes) and the case's (bytes,
    with what it holds already): all before anything is written. Returns each file's name and extension."""
    files = list(files)
    limit = settings.UPLOAD_MAX_FILES_PER_REQUEST
    if len(files) > limit:
        raise InvalidInput(f"一次最多上传 {limit} 个文件（本次 {len(files)} 个），请分批上传。", field=field)
    checked = [upload_check(upload, field=field) for upload in files]
    total = sum(upload.size or 0 for upload in files)
    if total > settings.UPLOAD_MAX_REQUEST_BYTES:
        raise InvalidInput(f"一次上传的文件总量不能超过 {_mb(settings.UPLOAD_MAX_REQUEST_BYTES)}"
                           f"（本次 {_mb(total)}），请分批上传。", field=field)
    _case_quota_check(case, total, field=field)
    return checked


def evidence_store(*, case: Case, actor: Actor, upload: UploadedFile, description: str, clause_id: str = "",
                   field: str = "file") -> Evidence:
    """Check and store one file on the case (the caller holds the lock and writes the history)."""
    name, ext = upload_check(upload, field=field)
    _case_quota_check(case, upload.size or 0, field=field)
    return evidence_write(case=case, upload=upload, name=name, ext=ext, description=description,
                          clause_id=clause_id, by=actor.user)


# --- files chosen on a form that was not sent yet -----------------------------------------------------

def pending_uploads(user: User, form: str) -> QuerySet[PendingUpload]:
    """The user's files kept for ``form`` that have not expired, oldest first."""
    since = timezone.now() - dt.timedelta(hours=settings.UPLOAD_PENDING_HOURS)
    return PendingUpload.objects.filter(user=user, form=form, created_at__gte=since)


def pending_uploads_keep(*, user: User, form: str, files: Sequence[UploadedFile],
                         field: str = "attachments") -> list[str]:
    """Keep each acceptable newly chosen file for the user's next try at ``form``.

    Every file passes the same checks as evidence; the kept files together stay within one request's
    quotas (count and bytes), since they are sent as one. A refused file is named in the returned
    messages and nothing of it is stored; the others are kept.
    """
    files = list(files)
    limit = settings.UPLOAD_MAX_FILES_PER_REQUEST
    if len(files) > limit:
        return [f"一次最多上传 {limit} 个文件（本次 {len(files)} 个），请分批上传。"]
    kept = list(pending_uploads(user, form))
    count, total = len(kept), sum(p.size for p in kept)
    errors: list[str] = []
    for upload in files:
        try:
            name, ext = upload_check(upload, field=field)
        except InvalidInput as exc:
            errors.append(exc.message)
            continue
        size = upload.size or 0
        if count + 1 > settings.UPLOAD_MAX_FILES_PER_REQUEST:
            errors.append(f"{name}：附件最多 {limit} 个（已附上 {count} 个），此文件未保留。")
            continue
        if total + size > settings.UPLOAD_MAX_REQUEST_BYTES:
            errors.append(f"{name}：附件总量不能超过 {_mb(settings.UPLOAD_MAX_REQUEST_BYTES)}，此文件未保留。")
            continue
        pending = PendingUpload(user=user, form=form, original_name=name, size=size)
        pending.file.save(f"{uuid.uuid4().hex}{ext}", upload, save=False)
        pending.save()
        count, total = count + 1, total + size
    return errors


def _files_delete(names: list[str]) -> None:
    storage = PendingUpload._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def pending_upload_remove(*, user: User, form: str, upload_id: int) -> str | None:
    """Forget one of the user's kept files; returns its name, or None when it is not theirs (or gone)."""
    pending = PendingUpload.objects.filter(user=user, form=form, pk=upload_id).first()
    if pending is None:
        return None
    pending_uploads_consume([pending])
    return pending.original_name


def pending_uploads_consume(uploads: Sequence[PendingUpload]) -> None:
    """Delete the rows now and their files once the transaction has committed (a rollback keeps both)."""
    names = [p.file.name for p in uploads]
    PendingUpload.objects.filter(pk__in=[p.pk for p in uploads]).delete()
    transaction.on_commit(lambda: _files_delete(names))


def pending_upload_file(pending: PendingUpload) -> UploadedFile:
    """A kept file opened as an upload, so it passes the same checks and store as a fresh one."""
    content_type = mimetypes.guess_type(pending.original_name)[0] or ""
    try:
        opened = pending.file.open("rb")
    except OSError:
        raise InvalidInput(f"{pending.original_name}：保留的文件已失效，请移除后重新选择。", field="attachments") from None
    return UploadedFile(file=opened, name=pending.original_name, content_type=content_type, size=pending.size)


def pending_uploads_purge() -> int:
    """Delete files kept longer than ``UPLOAD_PENDING_HOURS`` (a scheduled task); returns how many."""
    since = timezone.now() - dt.timedelta(hours=settings.UPLOAD_PENDING_HOURS)
    expired = list(PendingUpload.objects.filter(created_at__lt=since)[:1000])
    with transaction.atomic():
        pending_uploads_consume(expired)
    return len(expired)
