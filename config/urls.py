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


# Every error is a Chinese page in the site's layout (or the API's JSON shape under /api/).
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
