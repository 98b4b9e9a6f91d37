"""REST API for the follow-through: return visits (回访), clarifications (澄清正名), failures to tolerate (应容未容)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Person
from accounts.selectors import people_visible_to

from . import services
from .api import CasePagination, _valid
from .doors import actor_for
from .models import ClarificationScope, FailureStatus, FailureToTolerate, ReturnVisit, VisitForm
from .permissions import sees_internal
from .selectors import case_get, case_or_404, clarifications_visible, failures_visible, return_visits_for

ID_MAX = 2**63 - 1  # a database id: anything larger is a 400, never an overflow in the query


# The follow-up lists page and validate input exactly as the case API does.
FollowupPagination = CasePagination


def _text(max_length: int, label: str, *, required: bool = True) -> serializers.CharField:
    messages = {"max_length": f"{label}不能超过 {{max_length}} 字。", "required": f"请填写{label}。",
                "blank": f"请填写{label}。"}
    if required:
        return serializers.CharField(max_length=max_length, error_messages=messages)
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, default="",
                                 error_messages=messages)


# --- return visits ---------------------------------------------------------------------------------

class VisitOutput(serializers.Serializer):
    """A return visit. The cadre and the applying unit see the plan (date, form, done or not), not the record."""

    id = serializers.IntegerField()
    due_on = serializers.DateField(help_text="计划回访日期")
    form = serializers.ChoiceField(choices=VisitForm.choices, help_text="talk（谈话）| site（实地走访）| other（其他）")
    form_label = serializers.CharField(source="get_form_display")
    months_after = serializers.IntegerField(allow_null=True, help_text="送达后第几个月（配置）；手工安排的为 null")
    done = serializers.BooleanField()
    visited_on = serializers.DateField(allow_null=True)
    assignee = serializers.CharField(source="assignee.display_name", allow_null=True, default=None)
    notes = serializers.CharField(allow_null=True, help_text="回访记录；当事人看不到（null）")
    cadre_state = serializers.CharField(allow_null=True, help_text="干部现实表现；当事人看不到（null）")


def visit_output(visits: Any, *, internal: bool) -> list[dict[str, Any]]:
    rows = VisitOutput(visits, many=True).data
    if not internal:
        for row in rows:
            row["notes"] = row["cadre_state"] = None
            row["assignee"] = None
    return rows


class VisitAddInput(serializers.Serializer):
    due_on = serializers.DateField(help_text="计划回访日期，不早于今天")
    form = serializers.ChoiceField(choices=VisitForm.choices, default=VisitForm.TALK)


class VisitCompleteInput(serializers.Serializer):
    visited_on = serializers.DateField(help_text="回访日期，不晚于今天")
    form = serializers.ChoiceField(choices=VisitForm.choices)
    notes = _text(5000, "回访记录")
    cadre_state = _text(5000, "干部现实表现")


class VisitListApi(APIView):
    @extend_schema(summary="案件的回访（计划与记录）", responses={200: VisitOutput(many=True)})
    def get(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        return Response(visit_output(return_visits_for(request.user, case),
                                     internal=sees_internal(request.user, case)))

    @extend_schema(summary="另行安排一次回访", request=VisitAddInput, responses={201: VisitOutput})
    def post(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        data = _valid(VisitAddInput, request.data)
        visit = services.visit_add(case_id=case.pk, actor=actor_for(request.user, request, via="api"), **data)
        return Response(visit_output([visit], internal=True)[0], status=201)


class VisitCompleteApi(APIView):
    @extend_schema(summary="记录回访情况", request=VisitCompleteInput, responses={200: VisitOutput})
    def post(self, request: Request, case_id: int, visit_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        if not ReturnVisit.objects.filter(case=case, pk=visit_id).exists():
            raise Http404
        data = _valid(VisitCompleteInput, request.data)
        visit = services.visit_complete(case_id=case.pk, actor=actor_for(request.user, request, via="api"),
                                        visit_id=visit_id, **data)
        return Response(visit_output([visit], internal=True)[0])


# --- clarifications --------------------------------------------------------------------------------

class ClarificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    person_name = serializers.CharField(source="person.name")
    unit = serializers.CharField(source="person.unit.name")
    case = serializers.IntegerField(source="case_id", allow_null=True)
    case_reference = serializers.CharField(source="case.reference", allow_null=True, default=None)
    organisation = serializers.CharField(source="organisation.name", help_text="澄清机关（谁办理、谁澄清）")
    decided_by = serializers.CharField(source="decided_by.display_name")
    decided_on = serializers.DateField()
    scope = serializers.ChoiceField(choices=ClarificationScope.choices,
                                    help_text="self（本人）| unit（所在单位）| circulated（一定范围内通报）")
    scope_label = serializers.CharField(source="get_scope_display")
    basis = serializers.CharField()
    accuser_referred_to = serializers.CharField()
    accuser_referred_on = serializers.DateField(allow_null=True)
    accuser_outcome = serializers.CharField()
    created_at = serializers.DateTimeField()


class ClarificationInput(serializers.Serializer):
    person = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=ID_MAX,
                                      help_text="被澄清干部编号；从案件发起时可省略")
    case = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=ID_MAX,
                                    help_text="来源案件编号（可选）")
    organisation = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=ID_MAX,
                                            help_text="澄清机关编号；默认本人所在的有管辖权的纪检监察机关")
    decided_on = serializers.DateField()
    scope = serializers.ChoiceField(choices=ClarificationScope.choices)
    basis = _text(5000, "澄清依据")
    accuser_referred_to = _text(100, "移送或处理机关", required=False)
    accuser_referred_on = serializers.DateField(required=False, allow_null=True, default=None)
    accuser_outcome = _text(5000, "处理结果", required=False)


class ReferralInput(serializers.Serializer):
    accuser_referred_to = _text(100, "移送或处理机关")
    accuser_referred_on = serializers.DateField()
    accuser_outcome = _text(5000, "处理结果", required=False)


class ClarificationListCreateApi(GenericAPIView):
    pagination_class = FollowupPagination
    serializer_class = ClarificationOutput

    def get_queryset(self) -> QuerySet:
        return clarifications_visible(self.request.user)

    @extend_schema(summary="澄清正名列表", responses={200: ClarificationOutput(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ClarificationOutput(page, many=True).data)

    @extend_schema(summary="记录澄清正名（从案件发起或单独发起）", request=ClarificationInput,
                   responses={201: ClarificationOutput})
    def post(self, request: Request) -> Response:
        data = _valid(ClarificationInput, request.data)
        case = None
        if data["case"] is not None:
            case = case_get(request.user, data["case"])
            if case is None:
                raise serializers.ValidationError({"case": ["案件不存在，或您无权查看。"]})
        person_id = data["person"] if data["person"] is not None else (case.subject_id if case else None)
        if person_id is None:
            raise serializers.ValidationError({"person": ["请选择被澄清干部，或指明来源案件。"]})
        person = people_visible_to(request.user).filter(pk=person_id).first() if case is None else (
            Person.objects.filter(pk=person_id).select_related("unit").first())
        if person is None:
            raise serializers.ValidationError({"person": ["干部不存在，或不在您的管辖范围内。"]})
        clarification = services.clarification_record(
            actor=actor_for(request.user, request, via="api"), person=person, case=case,
            organisation_id=data["organisation"], decided_on=data["decided_on"], scope=data["scope"],
            basis=data["basis"], accuser_referred_to=data["accuser_referred_to"],
            accuser_referred_on=data["accuser_referred_on"], accuser_outcome=data["accuser_outcome"])
        return Response(ClarificationOutput(clarification).data, status=201)


def _clarification_or_404(request: Request, clarification_id: int) -> Any:
    found = clarifications_visible(request.user).filter(pk=clarification_id).first()
    if found is None:
        raise Http404
    return found


class ClarificationDetailApi(APIView):
    @extend_schema(summary="澄清正名详情", responses={200: ClarificationOutput})
    def get(self, request: Request, clarification_id: int) -> Response:
        return Response(ClarificationOutput(_clarification_or_404(request, clarification_id)).data)


class ClarificationReferralApi(APIView):
    @extend_schema(summary="记录对诬告陷害人的移送处理", request=ReferralInput, responses={200: ClarificationOutput})
    def post(self, request: Request, clarification_id: int) -> Response:
        clarification = _clarification_or_404(request, clarification_id)
        data = _valid(ReferralInput, request.data)
        updated = services.clarification_referral(actor=actor_for(request.user, request, via="api"),
                                                  clarification=clarification, **data)
        return Response(ClarificationOutput(updated).data)


# --- failures to tolerate --------------------------------------------------------------------------

class FailureOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    case_reference = serializers.CharField(source="case.reference")
    subject = serializers.CharField(source="case.subject.name")
    title = serializers.CharField(source="case.title")
    trigger = serializers.CharField(help_text="appeal_overturned（申诉复核撤销不予容错决定）| departure（决定未采纳予以容错的评估）")
    trigger_label = serializers.CharField(source="get_trigger_display")
    decision = serializers.IntegerField(source="decision_id")
    reviewer = serializers.CharField(source="reviewer.name", allow_null=True, default=None)
    summary = serializers.CharField()
    status = serializers.ChoiceField(choices=FailureStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    resolution = serializers.CharField()
    opened_case = serializers.IntegerField(source="opened_case_id", allow_null=True)
    opened_case_reference = serializers.CharField(source="opened_case.reference", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class FailureDismissInput(serializers.Serializer):
    reason = _text(2000, "排除理由")


class FailureOpenCaseInput(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="上级纪检监察机关就此启动的案件编号")
    note = _text(2000, "说明", required=False)


class FailureListApi(GenericAPIView):
    pagination_class = FollowupPagination
    serializer_class = FailureOutput

    def get_queryset(self) -> QuerySet[FailureToTolerate]:
        qs = failures_visible(self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in FailureStatus.values:
                raise serializers.ValidationError({"status": [f"状态无效：{wanted!r}，应为 open、dismissed 或 case_opened。"]})
            qs = qs.filter(status=wanted)
        return qs

    @extend_schema(summary="可能的应容未容问题（上级纪检监察机关）", responses={200: FailureOutput(many=True)},
                   parameters=[OpenApiParameter("status", str, enum=FailureStatus.values, required=False)])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(FailureOutput(page, many=True).data)


def _failure_or_404(request: Request, failure_id: int) -> FailureToTolerate:
    if not failures_visible(request.user).filter(pk=failure_id).exists():
        raise Http404
    return failures_visible(request.user).get(pk=failure_id)


class FailureDismissApi(APIView):
    @extend_schema(summary="排除应容未容问题（说明理由）", request=FailureDismissInput, responses={200: FailureOutput})
    def post(self, request: Request, failure_id: int) -> Response:
        _failure_or_404(request, failure_id)
        data = _valid(FailureDismissInput, request.data)
        failure = services.failure_dismiss(actor=actor_for(request.user, request, via="api"), failure_id=failure_id,
                                           reason=data["reason"])
        return Response(FailureOutput(failure).data)


class FailureOpenCaseApi(APIView):
    @extend_schema(summary="关联就应容未容问题启动的案件", request=FailureOpenCaseInput, responses={200: FailureOutput})
    def post(self, request: Request, failure_id: int) -> Response:
        _failure_or_404(request, failure_id)
        data = _valid(FailureOpenCaseInput, request.data)
        failure = services.failure_open_case(actor=actor_for(request.user, request, via="api"),
                                             failure_id=failure_id, case_id=data["case"], note=data["note"])
        return Response(FailureOutput(failure).data)
