"""The export archive: a ZIP of the filing PDFs, an XLSX register, a manifest and SHA256SUMS.

Every PDF is checked against the SHA-256 recorded when it was generated before it goes in, so an
archive never carries a file that was changed on disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from cases.models import Case, Outcome
from rules.dates import cn_date

from ..models import Document, ExportJob, ExportStatus
from .caselist import ruleset_label, sheet_cells

REGISTER_HEADER = ["序号", "案件编号", "当事干部", "所在单位", "职务", "问责部门", "适用规则", "决定日期", "容错结论",
                   "发文字号", "版本", "SHA-256", "文件名"]
REGISTER_KEYS = ["reference", "person", "unit", "position", "org", "ruleset", "decided", "outcome", "number",
                 "version", "sha256", "name"]


def _xlsx_register(job: ExportJob, rows: list[dict[str, Any]]) -> bytes:
    """The register sheet: one line per filing, in the order of the archive."""
    from openpyxl import Workbook  # only exports need it; keep it off the import path of every worker

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("备案登记")
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["H"].width = 22
    ws.column_dimensions["L"].width = 66
    ws.append([f"容错纠错备案登记（{cn_date(job.date_from)}至{cn_date(job.date_to)}）"])
    ws.append(REGISTER_HEADER)
    for i, row in enumerate(rows, start=1):
        ws.append(sheet_cells(ws, [i, *(row[key] for key in REGISTER_KEYS)]))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _safe(name: str) -> str:
    """A file name every unzip tool accepts (no path separators or characters Windows refuses)."""
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in name)


def _register_row(case: Case, doc: Document, *, name: str, digest: str) -> dict[str, Any]:
    return {
        "reference": case.reference, "person": case.subject.name, "unit": case.subject.unit.name,
        "position": case.subject.position, "org": case.accountability_org.name,
        "ruleset": ruleset_label(case.ruleset, case.conduct_date, case.decision_date),
        "decided": case.decision_date,
        "outcome": Outcome(case.outcome).label if case.outcome else "", "number": doc.number,
        "version": doc.version, "sha256": digest, "name": name,
    }


def export_write(job: ExportJob, cases: list[Case], docs: dict[int, Document]) -> None:
    """Write the archive of a job whose filings are all ready and mark the job ready (once)."""
    rows: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    total = max(len(cases), 1)
    # A temporary file, not memory: an archive of a year's filings can be hundreds of megabytes.
    with tempfile.TemporaryFile() as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for i, case in enumerate(cases, start=1):
                doc = docs[case.pk]
                name = "备案表/" + _safe(f"{case.reference}-{doc.number or '无字号'}-v{doc.version}.pdf")
                with doc.file.open("rb") as fh:
                    content = fh.read()
                digest = hashlib.sha256(content).hexdigest()
                if digest != doc.sha256:
                    raise RuntimeError(f"{case.reference} 的备案表文件与登记的 SHA-256 不符，文件可能被改动。")
                archive.writestr(name, content)
                manifest.append({"file": name, "sha256": digest, "size": len(content), "case": case.reference,
                                 "number": doc.number, "version": doc.version})
                rows.append(_register_row(case, doc, name=name, digest=digest))
                if i % 25 == 0:
                    ExportJob.objects.filter(pk=job.pk).update(total=len(cases), progress=80 + i * 18 // total)
            register = _xlsx_register(job, rows)
            archive.writestr("备案登记.xlsx", register)
            manifest.append({"file": "备案登记.xlsx", "sha256": hashlib.sha256(register).hexdigest(),
                             "size": len(register)})
            body = {
                "title": "容错纠错备案材料导出",
                "period": {"from": job.date_from.isoformat(), "to": job.date_to.isoformat()},
                "organisation": job.organisation.name if job.organisation else "",
                "requested_by": job.requested_by.display_name(),
                "generated_at": timezone.localtime().isoformat(timespec="seconds"),
                "count": len(cases),
                "files": manifest,
            }
            archive.writestr("manifest.json", json.dumps(body, ensure_ascii=False, indent=2))
            archive.writestr("SHA256SUMS", "".join(f"{m['sha256']}  {m['file']}\n" for m in manifest))
        tmp.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: tmp.read(1 << 20), b""):
            digest.update(chunk)
        size = tmp.tell()
        tmp.seek(0)
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status == ExportStatus.READY:
                return  # an earlier delivery finished it
            locked.file.save(f"filings-{job.pk}-{job.date_from:%Y%m%d}-{job.date_to:%Y%m%d}.zip", File(tmp), save=False)
            locked.sha256 = digest.hexdigest()
            locked.size = size
            locked.total = len(cases)
            locked.progress = 100
            locked.status = ExportStatus.READY
            locked.finished_at = timezone.now()
            locked.error = ""
            locked.save(update_fields=["file", "sha256", "size", "total", "progress", "status", "finished_at", "error"])
