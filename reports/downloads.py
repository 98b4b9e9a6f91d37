"""How a stored PDF or export archive leaves the system, for pages and the API alike: audited, then streamed."""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone

from workflow.history import Actor

from . import services
from .models import Document, ExportJob, ExportKind

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def document_file_response(document: Document, *, actor: Actor, as_attachment: bool = False) -> FileResponse:
    """A ready document's PDF; the download is written to the case history first."""
    services.document_download_record(document=document, actor=actor)
    return FileResponse(document.file.open("rb"), filename=document.filename, content_type="application/pdf",
                        as_attachment=as_attachment)


def job_file_response(job: ExportJob, *, actor: Actor) -> FileResponse:
    """A ready export's ZIP (named for its period) or case list XLSX; the download is written to the history first."""
    services.export_download_record(job=job, actor=actor)
    if job.kind == ExportKind.CASES:
        stamp = (job.finished_at or job.created_at).astimezone(timezone.get_current_timezone())
        return FileResponse(job.file.open("rb"), filename=f"案件清单-{stamp:%Y%m%d-%H%M}.xlsx", as_attachment=True,
                            content_type=XLSX_TYPE)
    return FileResponse(job.file.open("rb"), filename=f"备案材料-{job.date_from}-{job.date_to}.zip",
                        as_attachment=True, content_type="application/zip")
