"""Pages, mounted by config under ``rules/``."""

from django.urls import path

from rules import views

app_name = "rules"

urlpatterns = [
    path("", views.ruleset_list, name="list"),
    path("compare/", views.ruleset_compare, name="compare"),
    path("<slug:ruleset_id>/", views.ruleset_detail, name="detail"),
]
