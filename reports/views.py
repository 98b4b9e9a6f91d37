"""Pages: the filing register with its export, document downloads, and public verification."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.models import Case, Outcome
from listing.keyset import Keyset, bounded_count
from rules.loader import registry
from workflow.doors import actor_for
from workflow.errors import WorkflowError
from workflow.selectors import case_get

from . import services
from .downloads import document_file_response, job_file_response
from .models import (
    AnnualReport,
    AnnualReportStatus,
    DocumentKind,
    DocumentStatus,
    ExportJob,
    ExportKind,
    ExportStatus,
)
from .permissions import may_use_filing_register, visible_kinds
from .selectors import (
    FILING_FILTERS,
    FILING_ROW_FIELDS,
    FilingFilterError,
    PeriodError,
    clarification_documents,
    current_filings,
    document_by_token,
    document_get,
    filing_list,
    job_get,
    organisation_from_param,
    organisations_for_filter,
    parse_period,
)
from .serializers import JobStatusOutput
from .services.caselist import filters_text

PAGE_SIZE = 50


@login_required
def filing_register(request: HttpRequest) -> HttpResponse:
    if not may_use_filing_register(request.user):
        raise PermissionDenied("只有组织部门可以查看备案登记。")
    today = timezone.localdate()
    raw_from = request.GET.get("from") or today.replace(month=1, day=1).isoformat()
    raw_to = request.GET.get("to") or today.isoformat()
    error = ""
    try:
        start, end = parse_period(raw_from, raw_to)
    except PeriodError as exc:
        error, start, end = exc.message, None, None
    org = organisation_from_param(request.GET.get("organisation"))
    filters = {k: request.GET.get(k, "").strip()[:100] for k in FILING_FILTERS}
    cases: Any = Case.objects.none()
    if not error:
        try:
            cases = filing_list(request.user, date_from=start, date_to=end, organisation=org, **filters)
        except FilingFilterError as exc:
            error = exc.message
    # Keyset pages in the register's order (decision date, newest first): no OFFSET, no full count.
    page = Keyset("decision_date", size=PAGE_SIZE).page(
        cases.only(*FILING_ROW_FIELDS), after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    page.count, page.more = bounded_count(cases)
    error = error or page.error
    filings = current_filings([c.pk for c in page.rows])
    rows = [(case, filings.get(case.pk)) for case in page.rows]
    jobs = ExportJob.objects.filter(requested_by=request.user, kind=ExportKind.FILINGS).order_by("-created_at")[:5]
    query = {"from": raw_from, "to": raw_to, **({"organisation": org.pk} if org else {}),
             **{k: v for k, v in filters.items() if v}}
    return render(request, "reports/filing_register.html", {
        "rows": rows, "page": page, "total": page.count, "total_more": page.more, "error": error, "date_from": raw_from,
        "date_to": raw_to, "organisation": org, "organisations": organisations_for_filter(request.user),
        "jobs": jobs, "job_json": [(job, JobStatusOutput(job).data) for job in jobs], "filters": filters,
        "outcomes": Outcome.choices, "rulesets": [(f.id, f.title) for f in registry().families()],
        "querystring": urlencode(query),
    })


@login_required
@require_POST
def filing_export(request: HttpRequest) -> HttpResponse:
    if not may_use_filing_register(request.user):
        raise PermissionDenied("只有组织部门可以导出备案材料。")
    org = organisation_from_param(request.POST.get("organisation"))
    filters = {k: request.POST.get(k, "").strip()[:100] for k in FILING_FILTERS if request.POST.get(k, "").strip()}
    query = {"from": request.POST.get("from", ""), "to": request.POST.get("to", ""), **filters}
    back = f"{reverse('reports:filing-register')}?{urlencode(query)}"
    try:
        start, end = parse_period(request.POST.get("from"), request.POST.get("to"), required=True)
        services.export_job_create(actor=actor_for(request.user, request), date_from=start, date_to=end,
                                   organisation=org, filters=filters)
    except PeriodError as exc:
        messages.error(request, exc.message)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已开始导出，完成后可在下方下载。")
    return redirect(back + (f"&organisation={org.pk}" if org else ""))


@login_required
@require_POST
def case_export(request: HttpRequest) -> HttpResponse:
    """Export the case list the user is looking at (its filters and search) to XLSX, then show its progress."""
    filters = services.case_list_filters(request.POST)
    try:
        services.case_list_export_create(actor=actor_for(request.user, request), filters=filters)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('home')}?{urlencode(filters)}")
    messages.success(request, "已开始导出案件清单，完成后可在下方下载。")
    return redirect("reports:exports")


@login_required
def exports(request: HttpRequest) -> HttpResponse:
    """The user's case list exports, newest first, each with its progress and, when ready, its download."""
    jobs = list(ExportJob.objects.filter(requested_by=request.user, kind=ExportKind.CASES).order_by("-created_at")[:10])
    for job in jobs:
        job.filter_text = filters_text(job.filters)  # type: ignore[attr-defined]
    return render(request, "reports/exports.html", {
        "job_json": [(job, JobStatusOutput(job).data) for job in jobs],
    })


@login_required
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = job_get(request.user, job_id)
    if job is None:
        raise Http404("未找到该导出任务。")
    return JsonResponse(JobStatusOutput(job).data)


@login_required
def job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = job_get(request.user, job_id)
    if job is None or job.status != ExportStatus.READY:
        raise Http404("未找到该导出文件。")
    return job_file_response(job, actor=actor_for(request.user, request))


@login_required
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    doc = document_get(request.user, document_id)
    if doc is None or doc.status != DocumentStatus.READY:
        raise Http404("未找到该文书，或您无权查看。")
    return document_file_response(doc, actor=actor_for(request.user, request),
                                  as_attachment=request.GET.get("download") == "1")


@login_required
@require_POST
def document_regenerate(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get(request.user, case_id)
    if case is None:
        raise Http404("未找到该案件，或您无权查看。")
    try:
        services.document_regenerate(case=case, kind=request.POST.get("kind", ""),
                                     reason=request.POST.get("reason", ""), actor=actor_for(request.user, request))
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新生成文书（新版本），原版本保留。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=documents")


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: anyone holding the paper may learn whether it is genuine and current; details need rights."""
    doc = document_by_token(token)
    if doc is None:
        annual = AnnualReport.objects.filter(token=token, status=AnnualReportStatus.READY).select_related(
            "organisation", "superseded_by").first()
        if annual is not None:
            return render(request, "reports/verify_annual.html", {"report": annual})
    details = None
    # Whoever holds a replaced paper learns that it is replaced and where to verify the version in force;
    # what the case is about still needs rights.
    newer = doc.superseded_by if doc is not None and doc.superseded else None
    if doc is not None and request.user.is_authenticated:
        if doc.kind == DocumentKind.CLARIFICATION:
            details = document_get(request.user, doc.pk)
        else:
            case = case_get(request.user, doc.case_id)
            if case is not None and doc.kind in visible_kinds(request.user, case):
                details = doc
    return render(request, "reports/verify.html", {
        "document": doc, "details": details, "newer": newer, "token": token,
        "kind_labels": dict(DocumentKind.choices),
    }, status=200 if doc is not None else 404)


@login_required
def clarification_document(request: HttpRequest, clarification_id: int) -> FileResponse:
    """The clarification notice (澄清正名通知) in force, for whoever may see the clarification."""
    doc = clarification_documents(request.user, clarification_id).filter(status=DocumentStatus.READY).first()
    if doc is None:
        raise Http404("该澄清正名通知尚未生成，或您无权查看。")
    return document_file_response(doc, actor=actor_for(request.user, request),
                                  as_attachment=request.GET.get("download") == "1")
