"""Writes to the case record itself: findings, evidence, statements, participants.

These functions change only the rows of this app and return what changed. They assume the caller
(``workflow.services``) holds the case's lock, has checked who may act and validated the input,
and writes the history entry: the procedure owns those, the record owns its rows.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from accounts.models import User

from .models import Case, Evidence, Finding, Participant, Statement


def finding_write(
    *, case: Case, clause_id: str, status: str, reasoning: str, by: User | None
) -> tuple[Finding, dict[str, str] | None, bool]:
    """Record the finding on one clause; returns it, what it was before, and whether anything changed."""
    existing = Finding.objects.filter(case=case, clause_id=clause_id).first()
    before = {"status": existing.status, "reasoning": existing.reasoning} if existing else None
    if existing is not None and existing.status == status and existing.reasoning == reasoning:
        return existing, before, False
    finding, _ = Finding.objects.update_or_create(
        case=case, clause_id=clause_id, defaults={"status": status, "reasoning": reasoning, "recorded_by": by},
    )
    return finding, before, True


def evidence_write(
    *, case: Case, upload: UploadedFile, name: str, ext: str, description: str, clause_id: str, by: User | None
) -> Evidence:
    """Store an already validated upload under its content digest, with the digest on the row."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the storage reads the file again from the start
    evidence = Evidence(
        case=case, original_name=name, description=(description or "").strip()[:500], clause_id=clause_id,
        content_type=getattr(upload, "content_type", "") or "", size=upload.size, sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    evidence.file.save(f"{digest.hexdigest()[:16]}{ext}", upload, save=False)
    evidence.save()
    return evidence


def statement_write(*, case: Case, text: str, by: User | None) -> Statement:
    """The subject's own statement (陈述), kept as written."""
    return Statement.objects.create(case=case, author=by, text=text)


def participant_write(*, case: Case, by: User | None, **fields: Any) -> Participant:
    """Someone invited to take part in the investigation (人大代表, 专家, 服务对象 …)."""
    return Participant.objects.create(case=case, added_by=by, **fields)
