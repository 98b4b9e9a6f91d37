"""URL wiring for pages, the REST API and its documentation."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import api as accounts_api
from accounts import views as accounts_views
from config import api_docs

admin.site.site_header = "容错纠错案件管理系统"
admin.site.site_title = "容错纠错管理"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", accounts_views.password_change, name="password-change"),
    path("two-factor/", accounts_views.two_factor_verify_page, name="two-factor-verify"),
    path("two-factor/setup/", accounts_views.two_factor_setup, name="two-factor-setup"),
    path("healthz/", accounts_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("rules/", include("rules.urls")),
    path("workbench/", include("workbench.urls")),
    path("audit/", include("audit.urls")),
    path("", include("workflow.urls")),
    path("", include("reports.urls")),
    path("api/auth/token/", accounts_api.TokenCreateApi.as_view(), name="api-token"),
    path("api/auth/tokens/", accounts_api.TokenListApi.as_view(), name="api-tokens"),
    path("api/auth/tokens/<int:token_id>/", accounts_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("api/me/", accounts_api.MeApi.as_view(), name="api-me"),
    path("api/", include("rules.api_urls")),
    path("api/", include("workflow.api_urls")),
    path("api/", include("reports.api_urls")),
    path("api/schema/", api_docs.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", api_docs.swagger, name="api-docs"),
]



def api_aware_not_found(request, exception=None):  # noqa: ANN001, ANN201 - Django's handler signature
    """An unknown address under /api/ answers in the API's JSON error shape; pages keep Django's 404."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "未找到该记录，或您无权查看。", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


handler404 = api_aware_not_found
