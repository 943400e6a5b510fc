"""Settings shared by every environment. Values come from environment variables (see README)."""

from django.utils.translation import gettext_lazy as _

from .env import BASE_DIR, env, env_bool, env_int, env_url

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-change-me-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
VAR_DIR = BASE_DIR / "var"

INSTALLED_APPS = [
    # First: its runserver replaces Django's, so `manage.py runserver` (bin/demo) serves portal.asgi, the
    # live view's WebSocket included.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "tenants",
    "buildings",
    "devices",
    "recording",
    "congestion",
    "embeds",
    "sharing",
    "pos_link",
    "licensing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.OperatorMiddleware",
    "tenants.middleware.ForcePasswordChangeMiddleware",
    "tenants.middleware.TermsConsentMiddleware",  # the current terms of use accepted (PORTAL_TERMS_VERSION)
    "licensing.middleware.LicensingMiddleware",  # proxy login (act as customer), temporary-password expiry
    "devices.camera_order.RequestGenerationMiddleware",  # the camera list's generation token, read once a request
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"  # HTTP and the live view's WebSocket (recording/consumers.py)
# The live view's socket: access re-checked this often while watching, sockets one client may hold open.
LIVE_RECHECK_SECONDS = env_int("LIVE_RECHECK_SECONDS", 5, minimum=1)
LIVE_SOCKETS_PER_CLIENT = env_int("LIVE_SOCKETS_PER_CLIENT", 16, minimum=1)

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
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
]

# Embedded default: SQLite in var/. Point DATABASE_URL at PostgreSQL for anything real.
_database_url = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(_database_url)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded demo runs web, Celery, beat and recorders against one file: WAL lets readers go
    # on while one writes, IMMEDIATE transactions take the write lock up front (no upgrade deadlock),
    # and writers wait for it instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60, minimum=0))
# The camera list's rows query is a prepared statement of each PostgreSQL connection (portal/query_shapes.py).
# Off behind a pooler that hands one server connection to many clients (PgBouncer in transaction mode).
PORTAL_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = ["tenants.auth_backend.EmailBackend"]
LOGIN_URL = "tenants:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "tenants:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tenants.validators.AllowedSymbolsValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # reset links: 24 h

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"

SESSION_COOKIE_HTTPONLY = True
# Every logged-in request reads its session: from the cache (Redis; the embedded file cache) and from the
# database only on a miss, which is then kept; writes go to both (one query fewer on every page). Nothing
# deletes session rows behind the cache's back: a logout or a new login flushes both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Secrets stored in the database (camera passwords, POS tokens) are encrypted with this key.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # `Authorization: Token <key>` against hashed, expiring, revocable keys (tenants.ApiToken).
        # rest_framework.authtoken stays installed only for the migration that hashed its old keys.
        "tenants.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.OperatorRolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "portal.api_metadata.PortalMetadata",  # OPTIONS without an object lookup
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cloud camera portal API",
    "DESCRIPTION": "Operators, buildings, rooms and devices. Every object is scoped to the caller's operator.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get components of their own (`BuildingRequest`): without read-only fields, and with
    # minLength 1 on a text field that may not be blank (drf-spectacular documents that only on requests).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api_docs.local_times",  # times of day without a UTC offset
    ],
    # Several models have a "kind" field; name each choice set after its class.
    "ENUM_NAME_OVERRIDES": {
        "DeviceKindEnum": "devices.models.DeviceKind",
        "LicenseKindEnum": "licensing.models.LicenseKind",
        # A user's role, and the roles the API gives (no admin); a link's provider, and each provider's body.
        "RoleEnum": "tenants.models.Role",
        "GivenRoleEnum": "tenants.serializers.GIVEN_ROLES",
        "ProviderEnum": "pos_link.models.Provider",
        "SmaregiProviderEnum": ["smaregi"],
        "UbiregiProviderEnum": ["ubiregi"],
    },
}
# /api/schema/ and /api/docs/ need a logged-in user (session or API token) unless this says they are public.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

# Product rules (docs/product.md §1) kept in one place so tests and pages agree.
PORTAL_MAX_ACCOUNTS_PER_OPERATOR = env_int("PORTAL_MAX_ACCOUNTS_PER_OPERATOR", 100, minimum=1)
PORTAL_LOCKOUT_FAILURES = 5
PORTAL_LOCKOUT_MINUTES = 30
PORTAL_INVITATION_HOURS = 72
PORTAL_LOGIN_HISTORY_DAYS = 90
PORTAL_TWO_FACTOR_CODE_MINUTES = 10
# Wrong codes per user (across logins) before the account locks like after wrong passwords.
PORTAL_TWO_FACTOR_MAX_ATTEMPTS = 5
# Codes mailed per user and hour (logins and "send a new code" together).
PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR = env_int("PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR", 6, minimum=1)
# Failed logins per client IP in PORTAL_LOGIN_IP_WINDOW_MINUTES before that IP is refused (0 = off):
# the per-account lock alone lets one client lock out every account it can name.
PORTAL_LOGIN_FAILURES_PER_IP = env_int("PORTAL_LOGIN_FAILURES_PER_IP", 30, minimum=0)
PORTAL_LOGIN_IP_WINDOW_MINUTES = 15
# The terms of use every user accepts once per version (tenants/terms.py); a new value asks everyone
# again at their next page. Empty: no consent asked.
PORTAL_TERMS_VERSION = env.str("PORTAL_TERMS_VERSION", default="2026-04")
PORTAL_SITE_URL = env_url("PORTAL_SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))
# Licensing decisions read the real clock. The demo and the tests name a controllable one here
# ("demo.clock.fake_now", see licensing/clock.py); production never does.
PORTAL_CONTROLLABLE_CLOCK: str | None = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

from .celery import *  # noqa: E402,F403
from .email import *  # noqa: E402,F403
from .embeds import *  # noqa: E402,F403
from .outbound import *  # noqa: E402,F403
from .proxy import *  # noqa: E402,F403
from .site import *  # noqa: E402,F403
from .storage import *  # noqa: E402,F403
