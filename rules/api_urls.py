"""API routes, mounted by config under ``api/``."""

from django.urls import path

from rules import api

urlpatterns = [
    path("rulesets/", api.RuleSetListApi.as_view(), name="api-rulesets"),
    path("rulesets/compare/", api.RuleSetCompareApi.as_view(), name="api-rulesets-compare"),
    path("rulesets/<slug:ruleset_id>/", api.RuleSetDetailApi.as_view(), name="api-ruleset"),
    path("rulesets/<slug:ruleset_id>/diff/", api.RuleSetDiffApi.as_view(), name="api-ruleset-diff"),
    path(
        "rulesets/<slug:ruleset_id>/evaluate/", api.RuleSetEvaluateApi.as_view(), name="api-ruleset-evaluate"
    ),
]
