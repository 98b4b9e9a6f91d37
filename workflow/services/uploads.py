"""Uploaded files: checked before anything is written, stored as evidence with their digest."""

from __future__ import annotations

import os

from django.core.files.uploadedfile import UploadedFile

from cases.models import Case, Evidence
from cases.services import evidence_write

from ..errors import InvalidInput
from ..history import Actor

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_UPLOAD_TYPES = {
    ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".doc", ".docx", ".xls", ".xlsx", ".txt", ".ofd", ".zip",
}


def upload_check(upload: UploadedFile) -> tuple[str, str]:
    """Validate an upload before anything is written; returns its safe name and extension."""
    base = os.path.basename(upload.name or "")
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    name = stem[: 200 - len(ext)] + ext
    if not base:
        raise InvalidInput("请选择要上传的文件。", field="file")
    if ext not in ALLOWED_UPLOAD_TYPES:
        raise InvalidInput(f"不支持的文件类型 {ext or '（无扩展名）'}：{base[:60]}", field="file")
    if upload.size is None or upload.size == 0:
        raise InvalidInput(f"文件为空：{base[:60]}", field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"单个文件不能超过 20 MB：{base[:60]}", field="file")
    return name, ext


def evidence_store(*, case: Case, actor: Actor, upload: UploadedFile, description: str, clause_id: str = "") -> Evidence:
    """Check and store one file on the case (the caller holds the lock and writes the history)."""
    name, ext = upload_check(upload)
    return evidence_write(case=case, upload=upload, name=name, ext=ext, description=description,
                          clause_id=clause_id, by=actor.user)
