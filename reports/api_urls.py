"""API routes; mounted by config with ``path("api/", include("reports.api_urls"))``."""

from django.urls import path

from . import api

app_name = "reports_api"

urlpatterns = [
    path("cases/export/", api.CaseListExportApi.as_view(), name="cases-export"),
    path("cases/<int:case_id>/documents/", api.CaseDocumentsApi.as_view(), name="case-documents"),
    path("cases/<int:case_id>/documents/<int:document_id>/file/", api.CaseDocumentFileApi.as_view(),
         name="case-document-file"),
    path("filings/", api.FilingListApi.as_view(), name="filings"),
    path("filings/export/", api.FilingExportApi.as_view(), name="filings-export"),
    path("jobs/<int:job_id>/", api.JobApi.as_view(), name="job"),
    path("jobs/<int:job_id>/file/", api.JobFileApi.as_view(), name="job-file"),
]
