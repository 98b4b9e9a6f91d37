from django.urls import path

from . import api, followup_api

urlpatterns = [
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", api.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/findings/<str:clause_id>/", api.FindingApi.as_view(), name="api-case-finding"),
    path("cases/<int:case_id>/evaluation/", api.EvaluationApi.as_view(), name="api-case-evaluation"),
    path("cases/<int:case_id>/evidence/", api.EvidenceApi.as_view(), name="api-case-evidence"),
    path("cases/<int:case_id>/evidence/<int:evidence_id>/", api.EvidenceDownloadApi.as_view(),
         name="api-case-evidence-file"),
    path("cases/<int:case_id>/actions/<str:action>/", api.ActionApi.as_view(), name="api-case-action"),
    path("cases/<int:case_id>/history/", api.HistoryApi.as_view(), name="api-case-history"),
    # follow-through: return visits, clarifications, failures to tolerate
    path("cases/<int:case_id>/visits/", followup_api.VisitListApi.as_view(), name="api-case-visits"),
    path("cases/<int:case_id>/visits/<int:visit_id>/complete/", followup_api.VisitCompleteApi.as_view(),
         name="api-case-visit-complete"),
    path("clarifications/", followup_api.ClarificationListCreateApi.as_view(), name="api-clarifications"),
    path("clarifications/<int:clarification_id>/", followup_api.ClarificationDetailApi.as_view(),
         name="api-clarification"),
    path("clarifications/<int:clarification_id>/referral/", followup_api.ClarificationReferralApi.as_view(),
         name="api-clarification-referral"),
    path("failures-to-tolerate/", followup_api.FailureListApi.as_view(), name="api-failures"),
    path("failures-to-tolerate/<int:failure_id>/dismiss/", followup_api.FailureDismissApi.as_view(),
         name="api-failure-dismiss"),
    path("failures-to-tolerate/<int:failure_id>/open-case/", followup_api.FailureOpenCaseApi.as_view(),
         name="api-failure-open-case"),
]
