"""REST endpoints for rule sets: list, detail with versions, evaluate, side-by-side compare."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rules import serializers as s
from rules.diff import diff_versions
from rules.errors import (
    DateBeforeFirstVersionError,
    FactError,
    FindingError,
    InvalidDateError,
    NoVersionInForceError,
    RuleError,
    UnknownRuleSetError,
    UnknownVersionError,
)
from rules.registry import registry
from rules.selectors import family_detail, family_summary
from rules.temporal import compare, evaluate


def _family(ruleset_id: str):
    try:
        return registry().family(ruleset_id)
    except UnknownRuleSetError as exc:
        raise exceptions.NotFound(str(exc)) from None


def _engine_inputs(data: dict[str, Any]) -> dict[str, Any]:
    facts = {k: data[k] for k in ("loss_amount", "disposition", "prior_same_matter") if k in data}
    if facts.get("prior_same_matter"):
        facts["prior_same_matter"] = [
            {
                "case": p["case"],
                "date": p["date"].isoformat(),
                "measure": p.get("measure"),
                "measure_date": p["measure_date"].isoformat() if p.get("measure_date") else None,
            }
            for p in facts["prior_same_matter"]
            if p
        ]
    return {
        "findings": data.get("findings") or {},
        "facts": facts or None,
        "answers": data.get("answers") or None,
        "conduct_date": data.get("conduct_date") or timezone.localdate(),
        "decision_date": data.get("decision_date"),
    }


def _validation_error(exc: RuleError, answers: dict[str, Any] | None) -> exceptions.ValidationError:
    if isinstance(exc, FindingError):
        field = "answers" if answers and exc.clause_id in answers else "findings"
    elif isinstance(exc, FactError):
        field = exc.field
    elif isinstance(exc, DateBeforeFirstVersionError | NoVersionInForceError | InvalidDateError):
        field = "conduct_date"
    else:
        field = "non_field_errors"
    return exceptions.ValidationError({field: [str(exc)]})


class RuleSetListApi(APIView):
    @extend_schema(summary="规则集列表", responses=s.RuleSetSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([family_summary(f) for f in registry().families()])


class RuleSetDetailApi(APIView):
    @extend_schema(summary="规则集详情（全部版本及条款）", responses=s.RuleSetDetailSerializer)
    def get(self, request: Request, ruleset_id: str) -> Response:
        return Response(family_detail(_family(ruleset_id)))


class RuleSetDiffApi(APIView):
    @extend_schema(
        summary="两个版本之间的条款级差异",
        parameters=[OpenApiParameter("from", str, required=True), OpenApiParameter("to", str, required=True)],
        responses=dict,
    )
    def get(self, request: Request, ruleset_id: str) -> Response:
        _family(ruleset_id)
        try:
            old = registry().version(ruleset_id, request.query_params.get("from", ""))
            new = registry().version(ruleset_id, request.query_params.get("to", ""))
        except UnknownVersionError as exc:
            raise exceptions.ValidationError({"version": [str(exc)]}) from None
        return Response(diff_versions(old, new).to_dict())


class RuleSetEvaluateApi(APIView):
    @extend_schema(
        summary="按规则集评估认定",
        description="输入与 manage.py evaluate_case 的事实文件相同，另加 conduct_date / decision_date。",
        request=s.EvaluateInputSerializer,
        responses=s.EvaluationOutputSerializer,
    )
    def post(self, request: Request, ruleset_id: str) -> Response:
        _family(ruleset_id)
        serializer = s.EvaluateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs = _engine_inputs(serializer.validated_data)
        try:
            ev = evaluate(
                ruleset_id,
                inputs["findings"],
                inputs["conduct_date"],
                facts=inputs["facts"],
                decision_date=inputs["decision_date"],
                answers=inputs["answers"],
            )
        except RuleError as exc:
            raise _validation_error(exc, inputs["answers"]) from None
        return Response(ev.to_dict())


class RuleSetCompareApi(APIView):
    @extend_schema(
        summary="同一组事实在多个规则集下并列评估",
        request=s.CompareInputSerializer,
        responses=s.CompareOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        serializer = s.CompareInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unknown = [rid for rid in data["rulesets"] if rid not in registry().ids()]
        if unknown:
            raise exceptions.ValidationError({"rulesets": [f"未知的规则集：{unknown[0]}"]})
        inputs = _engine_inputs(data)
        try:
            results = compare(
                data["rulesets"],
                inputs["findings"],
                inputs["conduct_date"],
                facts=inputs["facts"],
                answers=inputs["answers"],
                decision_date=inputs["decision_date"],
            )
        except RuleError as exc:
            raise _validation_error(exc, inputs["answers"]) from None
        return Response({"results": [ev.to_dict() for ev in results]})
