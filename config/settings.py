"""Settings read from environment variables.

With nothing set the project runs embedded: SQLite, Celery tasks in-process, local files.
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and a real Celery worker over Redis.
"""

import datetime as dt
import hmac
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "insecure-embedded-default-key-change-me"  # noqa: S105 - refused when DEBUG=0
DEMO_HISTORY_HMAC_KEY = "insecure-demo-history-hmac-key-change-me"  # noqa: S105 - refused when DEBUG=0

env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="")
    if raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"环境变量 {name} 的值 {raw!r} 无效：应为 0 或 1")


# The environment's DEBUG says development (1, the embedded default) or production (0). Django's own
# DEBUG, which swaps the site's Chinese error pages for its English technical pages (tracebacks, the list
# of URL patterns), is on only when DEBUG_PAGES=1 is asked for in development.
DEVELOPMENT = _bool("DEBUG", True)
DEBUG = DEVELOPMENT and _bool("DEBUG_PAGES", False)
# Rule-set versions published in the workbench are served beside the shipped rule files.
RULES_FROM_DATABASE = _bool("RULES_FROM_DATABASE", True)
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
if not DEVELOPMENT and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("生产模式（DEBUG=0）必须设置 SECRET_KEY，且不得使用默认值")

def _sm3_available() -> bool:
    try:
        hmac.new(b"probe", b"", "sm3")
    except ValueError:
        return False
    return True


# 国密 SM3 comes from the OpenSSL that Python is linked against (OpenSSL 3 provides it). Production
# refuses to start without it; a development machine without it keys the history with HMAC-SHA256.
SM3_AVAILABLE = _sm3_available()
if not DEVELOPMENT and not SM3_AVAILABLE:
    raise ImproperlyConfigured("生产模式（DEBUG=0）需要国密 SM3，但本 Python 所链接的 OpenSSL 不提供 SM3：请改用链接 OpenSSL 3 的 Python")
# The key of the history chain (HMAC). Read from the environment only, never stored in the database.
HISTORY_HMAC_KEY = env.str("HISTORY_HMAC_KEY", default="")
if not DEVELOPMENT and not HISTORY_HMAC_KEY:
    raise ImproperlyConfigured("生产模式（DEBUG=0）必须设置 HISTORY_HMAC_KEY（操作记录链的 HMAC-SM3 密钥，至少 32 个字符）")
if not DEVELOPMENT and (HISTORY_HMAC_KEY == DEMO_HISTORY_HMAC_KEY or len(HISTORY_HMAC_KEY) < 32):
    raise ImproperlyConfigured("HISTORY_HMAC_KEY 无效：生产模式下至少 32 个字符，且不得使用演示密钥")
HISTORY_HMAC_KEY = HISTORY_HMAC_KEY or DEMO_HISTORY_HMAC_KEY
HISTORY_HMAC_ALGORITHM = "hmac-sm3" if SM3_AVAILABLE else "hmac-sha256"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address printed in documents and their verification QR codes. When unset, development (DEBUG)
# uses the address the server answers on (`make run` passes it; otherwise the request that triggered
# the render, else runserver's default); production refuses to render rather than print a dead link.
SITE_URL = env.str("SITE_URL", default="")
SITE_URL_FROM_REQUEST = DEVELOPMENT

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Before accounts: accounts/admin.py takes their device admins off the admin site again.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    "accounts",
    "rules",
    "cases",
    "workflow",
    "reports",
    "workbench",
]

# The compose stack's access log records the user id (the proxy strips the header it travels in).
ACCESS_LOG_USER = env.bool("ACCESS_LOG_USER", default=False)

MIDDLEWARE = [
    # Outermost: sees the user whichever layer (session or API token) authenticated the request.
    "config.middleware.AccessLogUserMiddleware",
    # First: every later layer (lockout, throttles, audit) reads the client address from REMOTE_ADDR.
    "config.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.QueryStringGuardMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After clickjacking and CSP, so that it sees their answers first and may loosen one route's framing.
    "config.middleware.SecurityHeadersMiddleware",
    # Outside the session timeout, so that it sees the timeouts it must record.
    "audit.middleware.AuditMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    # Before the password policy: nothing, not even changing the password, before the second factor.
    "accounts.middleware.TwoFactorMiddleware",
    "accounts.middleware.PasswordPolicyMiddleware",
    "config.middleware.AnonymousRateLimitMiddleware",
    # Last: turns a lockout flagged during authentication into the Chinese lockout answer.
    "axes.middleware.AxesMiddleware",
    # Development without SITE_URL: documents rendered during a request link to the address it came to.
    "reports.middleware.RequestOriginMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.error_pages.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_roles",
                "audit.context_processors.auditor",
                "workflow.context_processors.notifications",
            ],
            # One date format everywhere (2027年1月1日): |cn_date and |cn_datetime in every template.
            "builtins": ["rules.templatetags.cn_dates"],
        },
    },
]

def _database(name: str, url: str) -> dict:
    """One alias of DATABASES from a URL; a wrong URL is one line naming the variable."""
    if url.split(":", 1)[0] not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(f"{name} 无效：{url.split(':', 1)[0]!r} 不是支持的数据库（应为 postgres:// 或 sqlite:///）")
    try:
        config = env.db_url_config(url)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} 无法解析：{exc}") from None
    config.setdefault("ATOMIC_REQUESTS", False)
    if config["ENGINE"].endswith("sqlite3"):
        # Wait for a lock instead of failing at once when the worker and the server share the file.
        # Writers take the lock when the transaction starts (not at the first write), so concurrent
        # requests wait for each other instead of failing with "database is locked".
        config.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    else:
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    return config


DATABASES = {"default": _database("DATABASE_URL", env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# A read replica (PostgreSQL streaming replication) for the statistics: reads inside
# reports.replica.replica_reads() go there (config.db_router), everything else (and every write) to the primary.
# Unset: there is no replica alias and every query goes to the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL)
    # Tests read the primary's test database through this alias instead of creating another.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading the cadre record with the user (sessions signed in before it was named here sign in again).
    "accounts.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Development serves static files straight from the source folders (no collectstatic), whatever DEBUG is.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Celery: embedded mode runs tasks in-process; REDIS_URL switches to a real broker and worker.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task (a bulk export of a year's filings), so a slow task is not redelivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Publishing gives up quickly when Redis is down: the outbox row stays pending and beat retries it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {"task": "reports.tasks.outbox_dispatch", "schedule": 30.0},
    "close-expired-appeal-windows": {"task": "workflow.tasks.cases_close_expired", "schedule": 3600.0},
    "purge-expired-pending-uploads": {"task": "workflow.tasks.pending_uploads_purge", "schedule": 3600.0},
}
# --- deadlines that act (reminders, escalation, notices by e-mail) ---
# The deadline check is idempotent (one step per case, stage and step), so running it hourly only
# makes a reminder arrive earlier in the day; the digest goes out once a day.
CELERY_BEAT_SCHEDULE.update({
    "check-deadlines": {"task": "workflow.tasks.deadlines_check", "schedule": crontab(minute=5)},
    "deliver-notices": {"task": "workflow.tasks.notices_deliver", "schedule": 60.0},
    "notice-digest": {"task": "workflow.tasks.notices_digest_send",
                      "schedule": crontab(hour=env.int("NOTICE_DIGEST_HOUR", default=8), minute=0)},
})
# --- end deadlines that act ---

# --- queues: heavy work never starves light work ---
# Each kind of work has its own queue and, in the compose stack, its own worker: a bulk export or an
# annual report may keep its worker busy for minutes, while a decision's documents and the hourly
# deadline check wait behind nothing but their own kind. Every task is listed here (a test checks it,
# and that some worker consumes each queue); beat's entries follow the same table. Embedded (no
# REDIS_URL) every task still runs in-process and the queues play no part.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # documents: the decision's documents (PDF) and the outbox dispatcher that orders them.
    "reports.tasks.outbox_dispatch": {"queue": "documents"},
    "reports.tasks.document_generate": {"queue": "documents"},
    # exports: ZIP archives of the filing register and XLSX case lists (and the filings an export finds
    # missing: reports.services.exports queues their rendering here, not on documents).
    "reports.tasks.export_build": {"queue": "exports"},
    # deadlines: reminders, overdue notices and escalation, appeal windows, notices by e-mail.
    "workflow.tasks.deadlines_check": {"queue": "deadlines"},
    "workflow.tasks.cases_close_expired": {"queue": "deadlines"},
    "workflow.tasks.notices_deliver": {"queue": "deadlines"},
    "workflow.tasks.notices_digest_send": {"queue": "deadlines"},
    # statistics: the annual report (a year of aggregates, then its PDF and XLSX), and the dashboard's
    # summary table (changed groups recomputed every minute, checked against the cases hourly).
    "reports.tasks.annual_report_generate": {"queue": "statistics"},
    "reports.tasks.insight_tally_flush": {"queue": "statistics"},
    "reports.tasks.insight_tally_check": {"queue": "statistics"},
    # default: housekeeping.
    "workflow.tasks.history_anchor_write": {"queue": "default"},
    "workflow.tasks.pending_uploads_purge": {"queue": "default"},
}
# Declared, so that a worker started without -Q consumes all of them and `celery purge` empties all.
CELERY_TASK_QUEUES = tuple(Queue(name) for name in ("default", "documents", "exports", "deadlines", "statistics"))
# --- end queues ---

REST_FRAMEWORK = {
    # Token first, so a request without credentials gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # Keyset pages (next / previous cursors) everywhere: page numbers cost a COUNT and an OFFSET per request.
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": None, "token": None},  # filled in from the security settings below
    # REMOTE_ADDR is already the trusted client address (config.middleware.TrustedProxyMiddleware):
    # never let DRF read X-Forwarded-For on its own.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "容错纠错案件管理系统 API",
    "DESCRIPTION": "容错纠错案件的启动、调查、建议、决定、执行与申诉接口。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the project's own static files (intranet: no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OutcomeEnum": "cases.models.Outcome",
        "DocumentStatusEnum": "reports.models.DocumentStatus",
        "ExportStatusEnum": "reports.models.ExportStatus",
        "ExportKindEnum": "reports.models.ExportKind",
        "DocumentKindEnum": "reports.models.DocumentKind",
        "PauseReasonEnum": "workflow.models.PauseReason",  # the stage clock's pauses (case API)
    },
}

# Fonts for official documents (GB/T 9704); a site with licensed fonts points these at them.
REPORT_FONT_TITLE = env.str("REPORT_FONT_TITLE", default="Noto Serif CJK SC")
REPORT_FONT_BODY = env.str("REPORT_FONT_BODY", default="Noto Serif CJK SC")
REPORT_FONT_HEADING = env.str("REPORT_FONT_HEADING", default="Noto Sans CJK SC")
APPEAL_WINDOW_DAYS = env.int("APPEAL_WINDOW_DAYS", default=30)
# Stage deadlines (催办/超期) in calendar days (default) or working days (工作日: weekends, public holidays
# and make-up working days, 调休, per the State Council's annual notices).
STAGE_DEADLINE_DAYS_KIND = env.str("STAGE_DEADLINE_DAYS_KIND", default="calendar")
if STAGE_DEADLINE_DAYS_KIND not in ("calendar", "working"):
    raise ImproperlyConfigured(
        f"STAGE_DEADLINE_DAYS_KIND 的值 {STAGE_DEADLINE_DAYS_KIND!r} 无效：应为 calendar（自然日）或 working（工作日）")
# Holiday arrangements not yet in the bundled calendar (e.g. next year's, once announced): ISO dates.
def _iso_dates(name: str) -> list[dt.date]:
    try:
        return [dt.date.fromisoformat(v.strip()) for v in env.list(name, default=[]) if v.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} 中有无效日期（应为逗号分隔的 YYYY-MM-DD）：{exc}") from None


WORK_CALENDAR_EXTRA_HOLIDAYS = _iso_dates("WORK_CALENDAR_EXTRA_HOLIDAYS")
WORK_CALENDAR_EXTRA_WORKDAYS = _iso_dates("WORK_CALENDAR_EXTRA_WORKDAYS")

# --- follow-through: return visits (回访) ---
# Zhangjiakou 第十一条(五) and Hohhot art. 19 ask for return visits but name no dates: the months after
# delivery are configuration (配置). RETURN_VISIT_MONTHS="3,6" for every jurisdiction;
# RETURN_VISIT_MONTHS_BY_JURISDICTION="hohhot:3,6,12;henan:6" overrides it per jurisdiction.
def _months(name: str, text: str) -> list[int]:
    try:
        months = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ImproperlyConfigured(f"{name} 中有无效月数（应为逗号分隔的正整数）：{text!r}") from None
    if any(m < 1 or m > 120 for m in months):
        raise ImproperlyConfigured(f"{name} 中的月数须在 1 至 120 之间：{text!r}")
    return months


RETURN_VISIT_MONTHS = _months("RETURN_VISIT_MONTHS", env.str("RETURN_VISIT_MONTHS", default="3,6"))
RETURN_VISIT_MONTHS_BY_JURISDICTION = {
    key.strip(): _months("RETURN_VISIT_MONTHS_BY_JURISDICTION", value)
    for key, _, value in (
        item.partition(":") for item in env.str("RETURN_VISIT_MONTHS_BY_JURISDICTION", default="").split(";")
        if item.strip()
    )
}
# --- end follow-through ---

# --- deadlines that act: reminder lead and escalation (defaults; each organisation may set its own in the
# admin, "办理期限设置"), and notices by e-mail when SMTP is configured. ---
DEADLINE_REMINDER_LEAD_DAYS = env.int("DEADLINE_REMINDER_LEAD_DAYS", default=3)
DEADLINE_ESCALATION_DAYS = env.int("DEADLINE_ESCALATION_DAYS", default=5)
if DEADLINE_REMINDER_LEAD_DAYS < 0 or DEADLINE_ESCALATION_DAYS < 0:
    raise ImproperlyConfigured("DEADLINE_REMINDER_LEAD_DAYS 和 DEADLINE_ESCALATION_DAYS 不能为负数。")
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="rongcuo@localhost")
# Notices are always stored in-app; they are also mailed only when a mail server is configured.
NOTICE_EMAIL_ENABLED = bool(EMAIL_HOST)
# --- end deadlines that act ---

if not DEVELOPMENT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Security (等保 2.0 三级 / OWASP ASVS L2); every value is listed in README "Security". ---
def _positive_int(name: str, default: int, *, minimum: int = 1) -> int:
    value = env.int(name, default=default)
    if value < minimum:
        raise ImproperlyConfigured(f"环境变量 {name} 的值 {value} 无效：不得小于 {minimum}")
    return value


def _rate(name: str, default: str) -> str:
    raw = env.str(name, default=default)
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in {"s", "sec", "m", "min", "h", "hour", "d", "day"}:
        raise ImproperlyConfigured(f"环境变量 {name} 的值 {raw!r} 无效：应形如 10/min（次数/s、min、hour 或 day）")
    return raw


# Client address: only this header, set by our own reverse proxy, is believed; empty means REMOTE_ADDR.
# For X-Forwarded-For, TRUSTED_PROXY_COUNT says how many of our proxies appended to it (the client is the
# entry that many places from the right); anything further left was written by the client and is ignored.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = _positive_int("TRUSTED_PROXY_COUNT", 1)

# Lockout (django-axes): per username, whatever address the attempts come from.
LOGIN_FAILURE_LIMIT = _positive_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = _positive_int("LOGIN_LOCKOUT_MINUTES", 30)
AXES_ENABLED = _bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for a per-address lockout as well. Not here: a whole bureau often reaches the intranet
# through one gateway address, and five mistakes there would lock everyone out. Address-based flooding
# is met by the rate limits below (API_TOKEN_RATE, API_ANON_RATE, PAGE_ANON_RATE) instead.
# models.W040: the dashboard's summary table has covering indexes (INCLUDE columns) for PostgreSQL's
# index-only scans; SQLite (the embedded run) builds them without those columns, which only costs speed.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_RESET_ON_SUCCESS = True
# The lockout runs from the attempt that caused it; attempts during it do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.middleware.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# Passwords. Composition and rotation follow 等保 2.0 (ASVS L2 would drop both); both are settings.
PASSWORD_MIN_LENGTH = _positive_int("PASSWORD_MIN_LENGTH", 8, minimum=8)
PASSWORD_MIN_CLASSES = _positive_int("PASSWORD_MIN_CLASSES", 3, minimum=0)
if PASSWORD_MIN_CLASSES > 4:
    raise ImproperlyConfigured("环境变量 PASSWORD_MIN_CLASSES 无效：字符类别只有 4 类（0–4）")
PASSWORD_MAX_AGE_DAYS = _positive_int("PASSWORD_MAX_AGE_DAYS", 90, minimum=0)  # 0: no forced rotation
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "full_name", "email")}},
    {"NAME": "accounts.validators.MinimumLengthValidator",
     "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.validators.ComplexityValidator", "OPTIONS": {"min_classes": PASSWORD_MIN_CLASSES}},
]

# Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_ABSOLUTE_HOURS after log-in,
# and when the browser closes. Log-out and a password change end all of the user's sessions and tokens.
SESSION_IDLE_MINUTES = _positive_int("SESSION_IDLE_MINUTES", 30)
SESSION_ABSOLUTE_HOURS = _positive_int("SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
API_TOKEN_HOURS = _positive_int("API_TOKEN_HOURS", 12)

# Content-Security-Policy (django-csp): no inline script or style anywhere, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Never cached, even without a session: documents and exports (the URL names of reports and workflow).
NO_STORE_URL_NAMES = frozenset({
    "case-detail", "case-review", "case-evaluation", "case-evidence-file", "reports:document-download",
    "reports:job-download", "reports:filing-export", "reports:verify", "reports_api:case-document-file",
    "reports_api:job-file", "api-case-evidence-file",
})

# Audit record (audit app). Kept at least 183 days (网络安全法 第二十一条: not less than six months).
AUDIT_RETENTION_DAYS = _positive_int("AUDIT_RETENTION_DAYS", 183, minimum=183)
AUDIT_AUDITOR_GROUP = env.str("AUDIT_AUDITOR_GROUP", default="审计员")
# The history chain's head (count and last digest) is copied to an anchor row and the audit record
# this often, so that verify_history notices a truncated or rolled-back chain.
HISTORY_ANCHOR_SECONDS = _positive_int("HISTORY_ANCHOR_SECONDS", 3600, minimum=60)
# The statistics' summary table: changed cells are folded in every minute (and by any reader), and once an
# hour the months are counted against the case table (cases loaded in bulk bypass the marks).
CELERY_BEAT_SCHEDULE["insight-tally-flush"] = {"task": "reports.tasks.insight_tally_flush", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["insight-tally-check"] = {"task": "reports.tasks.insight_tally_check", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["anchor-history"] = {
    "task": "workflow.tasks.history_anchor_write", "schedule": float(HISTORY_ANCHOR_SECONDS),
}
# Reads of case material (pages and API) and export downloads, by URL name: the audit app hooks no view.
AUDIT_READ_URL_NAMES = frozenset({
    "case-detail", "case-review", "case-evaluation", "case-evidence-file", "reports:document-download",
    "api-case", "api-case-evaluation", "api-case-evidence", "api-case-evidence-file", "api-case-history",
    "reports_api:case-documents", "reports_api:case-document-file",
})
AUDIT_EXPORT_URL_NAMES = frozenset({
    "reports:filing-export", "reports:job-download", "reports_api:filings-export", "reports_api:job-file",
    "audit:export",
    # Statistics: chart tables and annual reports leave the system as files.
    "reports:insight-export", "reports:annual-report-file",
})

# Two-factor sign-in (django-otp: TOTP plus single-use recovery codes). On by default in production
# (DEBUG=0), off in the embedded demo run; required of the roles below, of staff and of superusers.
TWO_FACTOR_REQUIRED = _bool("TWO_FACTOR_REQUIRED", not DEVELOPMENT)
TWO_FACTOR_ROLES = frozenset(env.list("TWO_FACTOR_ROLES",
                                      default=["inspector", "committee", "orgdept", "ruleset_editor", "admin"]))
TWO_FACTOR_RECOVERY_CODES = _positive_int("TWO_FACTOR_RECOVERY_CODES", 10)
OTP_TOTP_ISSUER = env.str("TWO_FACTOR_ISSUER", default="容错纠错案件管理系统")
# Each failed code doubles the wait before the next attempt on that device (1 s, 2 s, 4 s, ...).
OTP_TOTP_THROTTLE_FACTOR = _positive_int("TWO_FACTOR_THROTTLE_SECONDS", 1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Uploads (workflow/services/uploads.py): type by content, and quotas per file, per request and per case.
UPLOAD_MAX_FILE_BYTES = _positive_int("UPLOAD_MAX_FILE_MB", 20) * 1024 * 1024
UPLOAD_MAX_FILES_PER_REQUEST = _positive_int("UPLOAD_MAX_FILES_PER_REQUEST", 10)
UPLOAD_MAX_REQUEST_BYTES = _positive_int("UPLOAD_MAX_REQUEST_MB", 50) * 1024 * 1024
UPLOAD_MAX_CASE_BYTES = _positive_int("UPLOAD_MAX_CASE_MB", 200) * 1024 * 1024
# Files chosen on an application that was not yet sent are kept this long (configuration, not policy).
UPLOAD_PENDING_HOURS = _positive_int("UPLOAD_PENDING_HOURS", 72)
if UPLOAD_MAX_FILE_BYTES > UPLOAD_MAX_REQUEST_BYTES or UPLOAD_MAX_REQUEST_BYTES > UPLOAD_MAX_CASE_BYTES:
    raise ImproperlyConfigured("上传限额无效：应满足 UPLOAD_MAX_FILE_MB ≤ UPLOAD_MAX_REQUEST_MB ≤ UPLOAD_MAX_CASE_MB")
# Django itself refuses a request body with more files than this (400) before any view reads them: a
# margin above the per-request quota, so the view's own Chinese message names the limit first.
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES_PER_REQUEST * 2
# Larger bodies are refused by config.middleware.RequestSizeLimitMiddleware before they are read
# (the per-request quota plus room for the form fields).
REQUEST_MAX_BYTES = UPLOAD_MAX_REQUEST_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE

# /api/schema/ and /api/docs/ without logging in: only in development unless asked for.
API_DOCS_PUBLIC = _bool("API_DOCS_PUBLIC", DEVELOPMENT)

# Rate limits: the token endpoint per client address, anonymous API calls and anonymous pages.
API_TOKEN_RATE = _rate("API_TOKEN_RATE", "10/min")
API_ANON_RATE = _rate("API_ANON_RATE", "60/min")
PAGE_ANON_RATE = _rate("PAGE_ANON_RATE", "60/min")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": API_ANON_RATE, "token": API_TOKEN_RATE}

# Resource limits of documents (an unbounded field once made a 1,674-page PDF: 25 s and ~493 MB).
# A document longer than this many pages is refused and marked failed, never retried.
DOCUMENT_MAX_PAGES = _positive_int("DOCUMENT_MAX_PAGES", 60)
# Seconds one rendering may take: at the soft limit the document fails; at the hard limit the worker
# child is killed and the message redelivered, which counts as an attempt.
DOCUMENT_SOFT_TIME_LIMIT = _positive_int("DOCUMENT_SOFT_TIME_LIMIT", 60)
DOCUMENT_TIME_LIMIT = _positive_int("DOCUMENT_TIME_LIMIT", 90)
if DOCUMENT_TIME_LIMIT <= DOCUMENT_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("DOCUMENT_TIME_LIMIT 必须大于 DOCUMENT_SOFT_TIME_LIMIT")
# Deliveries (retries and redeliveries after a killed worker) of one document before it is marked failed.
DOCUMENT_MAX_ATTEMPTS = _positive_int("DOCUMENT_MAX_ATTEMPTS", 6)
# A worker child using more than this (KiB) is replaced after its task (PERFORMANCE.md: about 400 MB).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = _positive_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 400_000)

# Throttle counters must be shared by every worker process: Redis when configured.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
