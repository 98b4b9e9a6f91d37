"""Pages; mounted by config with ``path("", include("reports.urls"))``."""

from django.urls import path

from . import insight_views, views

app_name = "reports"

urlpatterns = [
    path("filings/", views.filing_register, name="filing-register"),
    path("filings/export/", views.filing_export, name="filing-export"),
    path("cases/export/", views.case_export, name="case-export"),
    path("exports/", views.exports, name="exports"),
    path("jobs/<int:job_id>/", views.job_status, name="job-status"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job-download"),
    path("documents/<int:document_id>/", views.document_download, name="document-download"),
    path("cases/<int:case_id>/documents/regenerate/", views.document_regenerate, name="document-regenerate"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("clarifications/<int:clarification_id>/document/", views.clarification_document,
         name="clarification-document"),
    # Statistics (统计分析) and the annual report.
    path("insight/", insight_views.insight_dashboard, name="insight"),
    path("insight/export/<slug:chart_id>.xlsx", insight_views.insight_export, name="insight-export"),
    path("insight/annual/", insight_views.annual_report_page, name="annual-report"),
    path("insight/annual/<int:report_id>.<str:kind>", insight_views.annual_report_file, name="annual-report-file"),
]
