"""How a stored PDF or export archive leaves the system, for pages and the API alike: audited, then streamed."""

from __future__ import annotations

from django.http import FileResponse

from workflow.history import Actor

from . import services
from .models import Document, ExportJob


def document_file_response(document: Document, *, actor: Actor, as_attachment: bool = False) -> FileResponse:
    """A ready document's PDF; the download is written to the case history first."""
    services.document_download_record(document=document, actor=actor)
    return FileResponse(document.file.open("rb"), filename=document.filename, content_type="application/pdf",
                        as_attachment=as_attachment)


def job_file_response(job: ExportJob, *, actor: Actor) -> FileResponse:
    """A ready export's ZIP, named for its period; the download is written to the history first."""
    services.export_download_record(job=job, actor=actor)
    return FileResponse(job.file.open("rb"), filename=f"备案材料-{job.date_from}-{job.date_to}.zip",
                        as_attachment=True, content_type="application/zip")
