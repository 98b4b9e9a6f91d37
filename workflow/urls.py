from django.urls import path

from . import views
from .views import followup

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_index, name="case-index"),
    path("cases/new/", views.case_new, name="case-new"),
    path("apply/", views.apply, name="apply"),
    path("mine/", views.my_cases, name="my-cases"),
    path("notifications/", views.notifications, name="notifications"),
    path("consultations/waiting/", views.consultations_waiting, name="consultations-waiting"),
    path("notifications/<int:notification_id>/open/", views.notification_open, name="notification-open"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/review/", views.case_review, name="case-review"),
    path("cases/<int:case_id>/evaluation/", views.evaluation_fragment, name="case-evaluation"),
    path("cases/<int:case_id>/act/<str:action>/", views.case_action, name="case-action"),
    path("cases/<int:case_id>/findings/<str:clause_id>/", views.finding_save, name="case-finding"),
    path("cases/<int:case_id>/evidence/", views.evidence_upload, name="case-evidence"),
    path("cases/<int:case_id>/evidence/<int:evidence_id>/", views.evidence_file, name="case-evidence-file"),
    path("cases/<int:case_id>/statements/", views.statement_add, name="case-statement"),
    path("cases/<int:case_id>/participants/", views.participant_add, name="case-participant"),
    # follow-through: return visits, clarifications, failures to tolerate
    path("cases/<int:case_id>/visits/", followup.visit_add, name="case-visit-add"),
    path("cases/<int:case_id>/visits/<int:visit_id>/complete/", followup.visit_complete,
         name="case-visit-complete"),
    path("visits/", followup.visit_index, name="visit-index"),
    path("clarifications/", followup.clarification_index, name="clarification-index"),
    path("clarifications/new/", followup.clarification_new, name="clarification-new"),
    path("failures-to-tolerate/", followup.failure_index, name="failure-index"),
    path("failures-to-tolerate/<int:failure_id>/<str:how>/", followup.failure_resolve, name="failure-resolve"),
]
