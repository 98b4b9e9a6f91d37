"""Every change of state in reports, one module per concern; every door imports them from here.

- ``numbers``: gap-free document numbers per issuing organisation and year;
- ``documents``: requesting, queuing, generating, failing, reissuing and auditing documents;
- ``outbox``: turning workflow's outbox events into the documents they call for;
- ``exports``: bulk export jobs of the filing register, step by step;
- ``caselist``: export jobs of the case list (one XLSX, the list's filters and visibility);
- ``archive``: writing an export's ZIP (PDFs, XLSX register, manifest, checksums);
- ``annual``: the annual report on tolerance work (numbered PDF and XLSX tables).
"""

from ..selectors import filing_filters_check
from .annual import annual_report_generate, annual_report_get, annual_report_request
from .caselist import case_list_export_create, case_list_filters, ruleset_label
from .documents import (
    CLAIM_LEASE,
    NUMBERED_KINDS,
    REQUEUE_AFTER,
    SYSTEM,
    _claim,
    clarification_document_request,
    clarification_documents_ensure,
    document_download_record,
    document_fail,
    document_generate,
    document_note_error,
    document_queue,
    document_regenerate,
    document_render,
    document_request,
    documents_requeue_stale,
)
from .exports import (
    EXPORT_WAIT_LIMIT,
    export_build,
    export_download_record,
    export_fail,
    export_job_create,
    export_queue,
)
from .numbers import number_format, number_next
from .outbox import outbox_dispatch

__all__ = [
    "case_list_export_create",
    "filing_filters_check",
    "case_list_filters",
    "ruleset_label",
    "clarification_document_request",
    "clarification_documents_ensure",
    "annual_report_generate",
    "annual_report_get",
    "annual_report_request",
    "CLAIM_LEASE",
    "EXPORT_WAIT_LIMIT",
    "NUMBERED_KINDS",
    "REQUEUE_AFTER",
    "SYSTEM",
    "_claim",
    "document_download_record",
    "document_fail",
    "document_generate",
    "document_note_error",
    "document_queue",
    "document_regenerate",
    "document_render",
    "document_request",
    "documents_requeue_stale",
    "export_build",
    "export_download_record",
    "export_fail",
    "export_job_create",
    "export_queue",
    "number_format",
    "number_next",
    "outbox_dispatch",
]
