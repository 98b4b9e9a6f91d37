"""Pages, mounted by config under ``rules/``."""

from django.urls import path

from rules import views

app_name = "rules"

urlpatterns = [
    path("", views.ruleset_list, name="list"),
    path("compare/", views.ruleset_compare, name="compare"),
    # Before <slug:ruleset_id>/: "provisions" is not a rule set.
    path("provisions/", views.provision_index, name="provisions"),
    path("provisions/<slug:document>/", views.provision_document, name="provision_map"),
    path("<slug:ruleset_id>/", views.ruleset_detail, name="detail"),
]
