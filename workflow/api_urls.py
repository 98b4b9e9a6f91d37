from django.urls import path

from . import api

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
]
