"""REST API: a case's documents and their files, the filing register, export jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from cases.models import Case, Outcome
from workflow.doors import actor_for
from workflow.pagination import PairCursorPagination
from workflow.permissions import sees_internal
from workflow.selectors import case_get

from . import services
from .downloads import XLSX_TYPE, document_file_response, job_file_response
from .models import DocumentStatus, ExportStatus
from .permissions import may_regenerate, may_use_filing_register
from .selectors import (
    FILING_FILTERS,
    FILING_ORDER,
    FilingFilterError,
    PeriodError,
    case_documents,
    current_filings,
    document_get,
    filing_list,
    filing_row_values,
    job_get,
    organisation_from_param,
    parse_period,
)
from .serializers import (
    CaseListExportInput,
    DocumentOutput,
    ExportInput,
    FilingOutput,
    JobOutput,
    RegenerateInput,
    filing_rows_output,
)


def _case_or_404(request: Request, case_id: Any) -> Case:
    case = case_get(request.user, case_id)
    if case is None:
        raise Http404
    return case


def _period(raw_from: Any, raw_to: Any, *, required: bool) -> tuple[Any, Any]:
    try:
        return parse_period(raw_from, raw_to, required=required)
    except PeriodError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None


def _filing_filters(data: Any) -> dict[str, str]:
    """The register's outcome, rule set and search parameters, checked (400 naming a bad one)."""
    filters = {k: str(data.get(k)).strip() for k in FILING_FILTERS if data.get(k) not in (None, "")}
    try:
        services.filing_filters_check(outcome=filters.get("outcome", ""), ruleset=filters.get("ruleset", ""))
    except FilingFilterError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    return filters


def _organisation(raw: Any) -> Organisation | None:
    if raw in (None, ""):
        return None
    org = organisation_from_param(raw)
    if org is None:
        raise ValidationError({"organisation": ["organisation 应为存在的组织编号。"]})
    return org


class CaseDocumentsApi(APIView):
    @extend_schema(summary="案件文书列表（各版本）", responses={200: DocumentOutput(many=True)})
    def get(self, request: Request, case_id: int) -> Response:
        case = _case_or_404(request, case_id)
        # A case has a handful of documents (kinds x versions): the list is not paged.
        documents = case_documents(request.user, case)
        context = {"internal": sees_internal(request.user, case)}
        return Response(DocumentOutput(documents, many=True, context=context).data)

    @extend_schema(summary="更正后重新生成文书（新版本，保留旧版本）", request=RegenerateInput,
                   responses={201: DocumentOutput})
    def post(self, request: Request, case_id: int) -> Response:
        case = _case_or_404(request, case_id)
        if not may_regenerate(request.user, case):
            raise PermissionDenied("只有问责部门可以重新生成文书。")
        serializer = RegenerateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        doc = services.document_regenerate(
            case=case, kind=serializer.validated_data["kind"], reason=serializer.validated_data["reason"],
            actor=actor_for(request.user, request, via="api"),
        )
        doc.refresh_from_db()
        return Response(DocumentOutput(doc).data, status=201)


class CaseDocumentFileApi(APIView):
    @extend_schema(summary="下载文书 PDF（留痕）", responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, case_id: int, document_id: int) -> FileResponse:
        doc = document_get(request.user, document_id)
        if doc is None or doc.case_id != int(case_id) or doc.status != DocumentStatus.READY:
            raise Http404
        return document_file_response(doc, actor=actor_for(request.user, request, via="api"))


class FilingPagination(PairCursorPagination):
    """Keyset pages over (decision date, id), served by the case_decision_date_idx index: no COUNT, no OFFSET.

    Many cases share a meeting date, so the position is the pair (``PairCursorPagination``). The register
    walks that one index and tests each row's visibility from it (``visible_cases(walking=True)``).
    """

    column = "decision_date"
    ordering = FILING_ORDER
    page_size = 100
    max_page_size = 500

    def parse_value(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    def paginate_queryset(self, queryset: QuerySet[Case], request: Request, view: Any = None,  # type: ignore[override]
                          parts: list[Any] | None = None) -> list[int]:
        """The page's case ids, from the index alone: the view then reads those rows with what they show (joined
        into the walk, every row passed over would be read whole)."""
        return [pk for _, pk in super().paginate_queryset(queryset, request, view)]


class FilingListApi(APIView):
    # Read by the schema generator, which then shows the cursor page around FilingOutput.
    pagination_class = FilingPagination

    @extend_schema(
        summary="备案登记",
        parameters=[
            OpenApiParameter("from", str, description="决定日期起 YYYY-MM-DD"),
            OpenApiParameter("to", str, description="决定日期止 YYYY-MM-DD"),
            OpenApiParameter("organisation", int, description="组织编号（含下级）"),
            OpenApiParameter("outcome", str, enum=[v for v, _ in Outcome.choices], description="容错结论"),
            OpenApiParameter("ruleset", str, description="适用规则编号"),
            OpenApiParameter("q", str, description="检索：案件编号（如 容案2026-00017、2026-00017）、当事干部或单位名称、"
                                                   "事项名称、基本情况"),
            OpenApiParameter("page_size", int, description="每页条数，默认 100，最多 500"),
            OpenApiParameter("cursor", str, description="翻页游标：取自上一页的 next / previous 链接"),
        ],
        responses={200: FilingOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        if not may_use_filing_register(request.user):
            raise PermissionDenied("只有组织部门可以查看备案登记。")
        start, end = _period(request.query_params.get("from"), request.query_params.get("to"), required=False)
        org = _organisation(request.query_params.get("organisation"))
        filters = _filing_filters(request.query_params)
        paginator = self.pagination_class()
        ids = paginator.paginate_queryset(
            filing_list(request.user, date_from=start, date_to=end, organisation=org, **filters), request, view=self)
        rows = filing_rows_output(filing_row_values(ids), current_filings(ids))
        return paginator.get_paginated_response(rows)


class FilingExportApi(APIView):
    @extend_schema(summary="批量导出备案材料（ZIP：PDF、XLSX 登记表、清单）", request=ExportInput,
                   responses={202: JobOutput})
    def post(self, request: Request) -> Response:
        if not may_use_filing_register(request.user):
            raise PermissionDenied("只有组织部门可以导出备案材料。")
        if not isinstance(request.data, dict):
            raise ValidationError({"from": ["请求体应为对象：{from, to, organisation}。"]})
        start, end = _period(request.data.get("from"), request.data.get("to"), required=True)
        org = _organisation(request.data.get("organisation"))
        job = services.export_job_create(actor=actor_for(request.user, request, via="api"), date_from=start,
                                         date_to=end, organisation=org, filters=_filing_filters(request.data))
        job.refresh_from_db()
        return Response(JobOutput(job).data, status=202)


class CaseListExportApi(APIView):
    @extend_schema(
        summary="导出案件清单（XLSX，按当前筛选与检索）",
        description="参数与 GET /api/cases/ 的筛选相同，可放在请求体或查询字符串中；只导出本人可见的案件。"
                    "返回导出任务，进度见 /api/jobs/{id}/，完成后从 download_url 下载。",
        request=CaseListExportInput, responses={202: JobOutput},
    )
    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        filters = services.case_list_filters({**request.query_params.dict(), **body})
        job = services.case_list_export_create(actor=actor_for(request.user, request, via="api"), filters=filters)
        job.refresh_from_db()
        return Response(JobOutput(job).data, status=202)


class JobApi(APIView):
    @extend_schema(summary="导出任务进度", responses={200: JobOutput})
    def get(self, request: Request, job_id: int) -> Response:
        job = job_get(request.user, job_id)
        if job is None:
            raise Http404
        return Response(JobOutput(job).data)


class JobFileApi(APIView):
    @extend_schema(summary="下载导出文件（留痕）：备案材料为 ZIP，案件清单为 XLSX",
                   responses={(200, "application/zip"): OpenApiTypes.BINARY, (200, XLSX_TYPE): OpenApiTypes.BINARY})
    def get(self, request: Request, job_id: int) -> FileResponse:
        job = job_get(request.user, job_id)
        if job is None or job.status != ExportStatus.READY:
            raise Http404
        return job_file_response(job, actor=actor_for(request.user, request, via="api"))
