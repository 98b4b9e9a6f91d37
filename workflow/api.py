"""REST API for cases: list, create, findings, evaluation, evidence, actions, history."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Case
from cases.selectors import case_evaluation
from rules.errors import RuleError

from . import serializers as s
from . import services
from .actions import ACTIONS, action_run
from .doors import actor_for
from .errors import NotAllowed
from .filters import CaseFilter
from .pagination import PairCursorPagination, TimeCursorPagination
from .permissions import action_check, evidence_visible, sees_evaluation
from .selectors import (
    FilterError,
    case_history_for,
    case_list_and_parts,
    case_list_base,
    case_or_404,
    case_rows,
)


class CasePagination(TimeCursorPagination):
    page_size = 50
    max_page_size = 200
    ordering = ("-created_at", "-id")


class CaseListPagination(PairCursorPagination):
    """The case list: (created_at, id) pairs read branch by branch of the visibility rule."""

    page_size = 50
    max_page_size = 200
    ordering = ("-created_at", "-id")


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CaseListCreateApi(GenericAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilter
    pagination_class = CaseListPagination
    serializer_class = s.CaseOutput

    def get_queryset(self) -> QuerySet[Case]:
        return case_list_base(self.request.user)

    @extend_schema(summary="案件列表", responses={200: s.CaseOutput(many=True)})
    def get(self, request: Request) -> Response:
        # The filters read once (``CaseFilter``, as ``filter_queryset`` would), for the list and its branches.
        try:
            listed, parts = case_list_and_parts(request.user, request.query_params)
        except FilterError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        # The page's ids from the indexes of the visibility rule's branches (no joins to plan), then its rows
        # with what they show.
        keys = self.paginator.paginate_queryset(listed.select_related(None), request, view=self, parts=parts)
        rows = case_rows([pk for _, pk in keys])
        return self.get_paginated_response(s.case_rows_output(rows))

    @extend_schema(summary="启动案件或提交容错申请", request=s.CaseCreateInput, responses={201: s.CaseDetailOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.CaseCreateInput, request.data)
        case = services.case_create(
            actor=actor_for(request.user, request, via="api"),
            attachments=request.FILES.getlist("attachments"),
            **data,
        )
        return Response(s.case_output(case, request.user, detail=True), status=201)


class CaseDetailApi(APIView):
    @extend_schema(summary="案件详情（含当前用户可执行的操作）", responses={200: s.CaseDetailOutput})
    def get(self, request: Request, case_id: int) -> Response:
        return Response(s.case_output(case_or_404(request.user, case_id), request.user, detail=True))


class FindingApi(APIView):
    @extend_schema(summary="记录条款认定", request=s.FindingInput, responses={200: s.CaseDetailOutput})
    def put(self, request: Request, case_id: int, clause_id: str) -> Response:
        case = case_or_404(request.user, case_id)
        data = _valid(s.FindingInput, request.data)
        services.finding_record(
            case_id=case.pk, actor=actor_for(request.user, request, via="api"), clause_id=clause_id,
            status=data["status"], reasoning=data["reasoning"], expected_revision=data.get("revision"),
        )
        return Response(s.case_output(case_or_404(request.user, case_id), request.user, detail=True))


class EvaluationApi(APIView):
    @extend_schema(summary="当前规则评估（逐条）", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        if not sees_evaluation(request.user, case):
            raise NotAllowed("决定作出前，内部评估意见不向当事人公开。")
        try:
            return Response(case_evaluation(case).to_dict())
        except RuleError as exc:
            raise ValidationError({"ruleset": [str(exc)]}) from None


class EvidenceApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="证据材料列表", responses={200: s.EvidenceOutput(many=True)})
    def get(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        return Response(s.EvidenceOutput(evidence_visible(request.user, case), many=True).data)

    @extend_schema(summary="上传证据材料", request=s.EvidenceInput, responses={201: s.EvidenceOutput})
    def post(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        data = _valid(s.EvidenceInput, request.data)
        evidence = services.evidence_add(
            case_id=case.pk, actor=actor_for(request.user, request, via="api"), upload=data["file"],
            description=data["description"], clause_id=data["clause_id"],
        )
        return Response(s.EvidenceOutput(evidence).data, status=201)


class EvidenceDownloadApi(APIView):
    # The file as uploaded: its type is the one its name gives (an image, a PDF, ...).
    @extend_schema(summary="下载证据材料", responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request: Request, case_id: int, evidence_id: int) -> FileResponse:
        case = case_or_404(request.user, case_id)
        evidence = evidence_visible(request.user, case).filter(pk=evidence_id).first()
        if evidence is None:
            raise Http404
        return FileResponse(evidence.file.open("rb"), as_attachment=False, filename=evidence.original_name)


class ActionApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="执行案件操作",
        description="action 为 " + "、".join(n for n, a in ACTIONS.items() if a.offered)
        + " 之一；各操作的请求体见对应的组件。",
        request=PolymorphicProxySerializer(
            component_name="CaseActionInput", serializers=[a.input for a in ACTIONS.values() if a.input],
            resource_type_field_name=None
        ),
        responses={200: s.CaseDetailOutput},
    )
    def post(self, request: Request, case_id: int, action: str) -> Response:
        case = case_or_404(request.user, case_id)
        spec = ACTIONS.get(action)
        if spec is None or spec.input is None:
            raise Http404
        # Check state and authority before validating the body, so a wrong state is a 409, not a 400.
        action_check(request.user, action, case)
        data = {**_valid(spec.input, request.data), "attachments": request.FILES.getlist("attachments")}
        action_run(action, case, actor_for(request.user, request, via="api"), data)
        return Response(s.case_output(case_or_404(request.user, case_id), request.user, detail=True))


class HistoryApi(APIView):
    @extend_schema(summary="操作记录（哈希链）", responses={200: s.HistoryOutput(many=True)})
    def get(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        entries, _ = case_history_for(request.user, case)
        # A party's entries carry only the public fields; the serializer leaves the rest out.
        return Response(s.HistoryOutput(entries, many=True).data)
