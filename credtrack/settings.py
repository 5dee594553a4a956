"""credtrack settings, read from the environment (and a local `.env` if present).

Defaults suit a newcomer's laptop: SQLite, no Redis (Celery runs tasks in-process),
emails printed to the console. Production sets DEBUG=false and the variables the
README lists; a bad value stops the process at start-up instead of being guessed.
"""

import datetime
import os
import zoneinfo
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    """Like env.bool, but a typo ("ture", "maybe") stops start-up instead of silently meaning False."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DEBUG = env_bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY")  # no default: production must set it

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

SITE_URL = env.url("SITE_URL", default="http://localhost:8000").geturl().rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must be an absolute http(s) URL, got {SITE_URL!r}")

TIME_ZONE = env("TIME_ZONE", default="America/New_York")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not an IANA time zone name")
USE_TZ = True
# The organisation's locale: every date and number on the pages follows it (formats in credtrack/formats/).
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en-us")
USE_I18N = True
FORMAT_MODULE_PATH = ["credtrack.formats"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "health_check",
    "csp",
    "apps.core",
    "apps.organisation",
    "apps.accounts",
    "apps.certifications",
    "apps.compliance",
    "apps.notifications",
    "apps.imports",
    "apps.api",
    "apps.web",
    "apps.backoffice",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which would read a whole upload looking for its token.
    "apps.core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The result of a background import, as a message on its user's next page.
    "apps.imports.middleware.ImportResultMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns locked-out logins into a clear response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "apps.accounts.backends.SignInLinkBackend",
]

ROOT_URLCONF = "credtrack.urls"
WSGI_APPLICATION = "credtrack.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded proof of certification is personal data: it lives outside any web root
# and is only ever served through a permission-checked view.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
MEDIA_ROOT = PRIVATE_MEDIA_ROOT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# In development, serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Degrades to per-process memory while Redis is unreachable (apps/core/cache.py); short timeouts so a
    # Redis that hangs instead of refusing costs a second, not a request's whole budget.
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="credtrack <credtrack@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
HR_CONTACT_EMAIL = env("HR_CONTACT_EMAIL", default="hr@localhost")

# Celery: with no REDIS_URL, tasks run eagerly in-process so a newcomer needs no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # with a host: kombu warns about a missing one
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# No task needs long (a scan chunk of 100k/8 employees takes seconds): short limits keep the visibility timeout short.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=10 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=9 * 60)
# A task taken by a worker that then dies whole (SIGKILL, lost machine) stays "unacked" in Redis this long before
# another worker gets it. Past the time limit, no live worker can still hold it, so nothing runs twice at once.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Look for abandoned tasks every 10 s (kombu's default is every 100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With the broker down, a web request gives up queueing within about two seconds (the outbox row keeps
# the work) instead of retrying for the request's whole budget.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_RESULT_EXPIRES = 24 * 3600

COMPLIANCE_SCAN_HOUR = env.int("COMPLIANCE_SCAN_HOUR", default=2)
COMPLIANCE_SCAN_MINUTE = env.int("COMPLIANCE_SCAN_MINUTE", default=0)
# The full scan is split into this many chunk tasks, spread over however many workers run.
COMPLIANCE_SCAN_CHUNKS = env.int("COMPLIANCE_SCAN_CHUNKS", default=8)
# A scan still "running" after this long is declared dead, so the next one may start.
# Must outlast a scan whose worker was killed: the visibility timeout, then the chunks again.
COMPLIANCE_SCAN_STALE_MINUTES = env.int("COMPLIANCE_SCAN_STALE_MINUTES", default=30)
if COMPLIANCE_SCAN_STALE_MINUTES * 60 <= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("COMPLIANCE_SCAN_STALE_MINUTES must be longer than CELERY_VISIBILITY_TIMEOUT")
# Status periods are stored this far ahead, so forecasts are look-ups too (docs/compliance.md, "Timeline").
TIMELINE_HORIZON_DAYS = env.int("TIMELINE_HORIZON_DAYS", default=730)
# A full rebuild runs in this many chunk tasks, more only when a chunk would hold over TIMELINE_CHUNK_MAX people.
TIMELINE_CHUNKS = env.int("TIMELINE_CHUNKS", default=8)
TIMELINE_CHUNK_MAX = env.int("TIMELINE_CHUNK_MAX", default=12500)


def env_days(name: str, default: str) -> list[int]:
    """A comma-separated list of whole days ("90,60,30"), largest first; anything else stops start-up."""
    raw = os.environ.get(name, default)
    try:
        days = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be comma-separated whole numbers of days, got {raw!r}") from None
    if not days or days[-1] < 0:
        raise ImproperlyConfigured(f"{name} must list at least one day, none negative, got {raw!r}")
    return days


def env_in_range(name: str, default: int, low: int, high: int) -> int:
    value = env.int(name, default=default)
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, got {value}")
    return value


# Staff reminders: days before a credential's expiry (0: on the day), then every N days while lapsed.
# HR overrides the thresholds per certification type (Reminder policies in the admin).
NOTIFICATIONS_REMINDER_DAYS = env_days("NOTIFICATIONS_REMINDER_DAYS", "90,60,30,14,7,0")
NOTIFICATIONS_REPEAT_EVERY_DAYS = env_in_range("NOTIFICATIONS_REPEAT_EVERY_DAYS", 7, 1, 365)
# A newcomer's missing requirement: days before its due day and on it (the last day to comply); from the
# day after (overdue), every N days as above.
NOTIFICATIONS_MISSING_DAYS = env_days("NOTIFICATIONS_MISSING_DAYS", "30,14,7,1")
# After the nightly scan, so reminders read that morning's results.
NOTIFICATIONS_PLAN_HOUR = env_in_range("NOTIFICATIONS_PLAN_HOUR", 6, 0, 23)
NOTIFICATIONS_PLAN_MINUTE = env_in_range("NOTIFICATIONS_PLAN_MINUTE", 0, 0, 59)
NOTIFICATIONS_DIGEST_WEEKDAY = env("NOTIFICATIONS_DIGEST_WEEKDAY", default="mon").strip().lower()
if NOTIFICATIONS_DIGEST_WEEKDAY not in {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}:
    raise ImproperlyConfigured(f"NOTIFICATIONS_DIGEST_WEEKDAY must be mon..sun, got {NOTIFICATIONS_DIGEST_WEEKDAY!r}")
NOTIFICATIONS_DIGEST_HOUR = env_in_range("NOTIFICATIONS_DIGEST_HOUR", 7, 0, 23)
# Delivery: emails per SMTP connection, a sender run every N minutes picks up retries, failed after N attempts.
NOTIFICATIONS_SEND_BATCH = env_in_range("NOTIFICATIONS_SEND_BATCH", 200, 1, 10_000)
# Sender tasks started after planning; each streams its own batches over its own connection.
NOTIFICATIONS_SENDERS = env_in_range("NOTIFICATIONS_SENDERS", 2, 1, 32)
NOTIFICATIONS_SEND_EVERY_MINUTES = env_in_range("NOTIFICATIONS_SEND_EVERY_MINUTES", 5, 1, 59)
NOTIFICATIONS_MAX_ATTEMPTS = env_in_range("NOTIFICATIONS_MAX_ATTEMPTS", 8, 1, 50)
# Backoff doubles from this: 5, 10, 20... minutes, so a mail server down for hours loses nothing.
NOTIFICATIONS_RETRY_BASE_SECONDS = env_in_range("NOTIFICATIONS_RETRY_BASE_SECONDS", 300, 1, 86_400)
# A row "sending" for longer than this belongs to a worker that died: it is queued again.
NOTIFICATIONS_SENDING_STALE_MINUTES = env_in_range("NOTIFICATIONS_SENDING_STALE_MINUTES", 30, 1, 24 * 60)

# /healthz fails when no compliance scan has completed for this long (the nightly one was missed).
COMPLIANCE_SCAN_MAX_AGE_HOURS = env_in_range("COMPLIANCE_SCAN_MAX_AGE_HOURS", 26, 1, 24 * 30)
# What /healthz checks (django-health-check); Redis and the broker only where they are configured.
HEALTH_CHECKS = ["health_check.checks.Database", "apps.compliance.health.LastScanAge"]
if REDIS_URL:
    HEALTH_CHECKS += [
        "apps.core.health.Redis",
        "apps.core.health.Broker",
    ]
# Imports (apps/imports/parsing.py): file size, data rows, characters per cell, what an XLSX may inflate to.
IMPORT_MAX_BYTES = env_in_range("IMPORT_MAX_BYTES", 20 * 1024 * 1024, 1024, 1024**3)
IMPORT_MAX_ROWS = env_in_range("IMPORT_MAX_ROWS", 200_000, 1, 10_000_000)
IMPORT_MAX_CELL_CHARS = env_in_range("IMPORT_MAX_CELL_CHARS", 2_000, 100, 1_000_000)
IMPORT_MAX_UNZIPPED_BYTES = env_in_range("IMPORT_MAX_UNZIPPED_BYTES", 200 * 1024 * 1024, 1024, 8 * 1024**3)

# The largest request body accepted (an import file plus its form); larger ones are refused from their
# Content-Length before anything is read. Proof uploads are held to their own 10 MB by their validator.
MAX_REQUEST_BODY_BYTES = env_in_range("MAX_REQUEST_BODY_BYTES", IMPORT_MAX_BYTES + 1024 * 1024, 1024, 2 * 1024**3)
# Form fields other than files, at most (Django's default is 2.5 MB); more is refused with 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_in_range("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, 1024, 100 * 1024 * 1024)
# An uploaded file larger than this goes to a temporary file (deleted after the request) instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_in_range("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, 0, 100 * 1024 * 1024)

# Content-Security-Policy on every response (django-csp): scripts and style sheets only from our own origin,
# never inline, and no style attributes either (templates use classes; tests/web/test_csp.py sweeps every page).
# Two views widen it for themselves: Redoc (it injects <style> at run time) and the admin's email preview frame.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [NONE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

CELERY_BEAT_SCHEDULE = {
    "nightly-compliance-scan": {
        "task": "apps.compliance.tasks.full_scan",
        "schedule": crontab(hour=COMPLIANCE_SCAN_HOUR, minute=COMPLIANCE_SCAN_MINUTE),
    },
    "nightly-timeline-sync": {
        "task": "apps.compliance.tasks.timeline_sync",
        "schedule": crontab(hour=COMPLIANCE_SCAN_HOUR, minute=COMPLIANCE_SCAN_MINUTE),
    },
    "daily-notifications": {
        "task": "apps.notifications.tasks.plan_notifications",
        "schedule": crontab(hour=NOTIFICATIONS_PLAN_HOUR, minute=NOTIFICATIONS_PLAN_MINUTE),
    },
    "weekly-manager-digests": {
        "task": "apps.notifications.tasks.plan_digests",
        "schedule": crontab(day_of_week=NOTIFICATIONS_DIGEST_WEEKDAY, hour=NOTIFICATIONS_DIGEST_HOUR, minute=0),
    },
    "daily-leavers-sign-in-off": {
        "task": "apps.accounts.tasks.deactivate_leavers",
        "schedule": crontab(hour=0, minute=5),
    },
    # Recomputes whose task never reached a worker (Redis down when the change committed): within a minute.
    "sweep-recomputes": {
        "task": "apps.compliance.tasks.sweep_recomputes",
        "schedule": crontab(),
    },
    # Admin imports whose task never reached a worker (Redis down at confirm time), or whose worker died.
    "sweep-import-jobs": {
        "task": "apps.imports.tasks.sweep_import_jobs",
        "schedule": crontab(),
    },
    "sweep-import-uploads": {
        "task": "apps.imports.tasks.sweep_import_uploads",
        "schedule": crontab(hour=3, minute=30),
    },
    "send-outbox": {
        "task": "apps.notifications.tasks.send_outbox",
        "schedule": crontab(minute=f"*/{NOTIFICATIONS_SEND_EVERY_MINUTES}"),
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Failed sign-ins lock the username attacked, never everyone behind one address (a hospital's NAT, the TLS
# proxy): an address is stopped only past a ceiling far above one person's limit. See docs/access.md.
SIGN_IN_FAILURE_LIMIT = env_in_range("AXES_FAILURE_LIMIT", 5, 1, 100)
SIGN_IN_ADDRESS_CEILING = env_in_range("SIGN_IN_ADDRESS_CEILING", 50, 1, 100_000)
AXES_FAILURE_LIMIT = "apps.accounts.lockout.failure_limit"
AXES_LOCKOUT_PARAMETERS = "apps.accounts.lockout.lockout_parameters"
AXES_HANDLER = "apps.accounts.lockout.UsernameLockoutHandler"
AXES_COOLOFF_TIME = env_in_range("AXES_COOLOFF_HOURS", 1, 1, 24 * 7)
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
# Its start-up banner, once per process, is noise on a developer's console (six times over in bin/dev).
AXES_VERBOSE = env_bool("AXES_VERBOSE", default=not DEBUG)
AXES_RESET_ON_SUCCESS = True
# The client's address as the documented proxy passes it on: the proxy's own address otherwise.
TRUSTED_PROXY_COUNT = env_in_range("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", default=False) else 0, 0, 5)
AXES_CLIENT_IP_CALLABLE = "apps.accounts.lockout.client_ip"

# Sign-in links in staff emails (django-sesame): see apps/accounts/links.py.
SESAME_MAX_AGE = datetime.timedelta(days=env_in_range("SIGN_IN_LINK_DAYS", 14, 1, 90))
SESAME_TOKEN_NAME = "sesame"
SESAME_INVALIDATE_ON_PASSWORD_CHANGE = True
# A link mailed to an address the person no longer has must not work.
SESAME_INVALIDATE_ON_EMAIL_CHANGE = True
# "Email me a sign-in link": per address and per client, in this many minutes.
SIGN_IN_LINK_REQUESTS = env_in_range("SIGN_IN_LINK_REQUESTS", 5, 1, 1000)
SIGN_IN_LINK_REQUEST_WINDOW_MINUTES = env_in_range("SIGN_IN_LINK_REQUEST_WINDOW_MINUTES", 60, 1, 24 * 60)

# Single sign-on (OpenID Connect), on when a client id is set. The provider's endpoints come from its
# discovery document (OIDC_DISCOVERY_URL, or OIDC_ISSUER + /.well-known/openid-configuration) unless
# each is given. Only people on the roster get in: see apps/accounts/oidc.py and docs/access.md.
OIDC_RP_CLIENT_ID = env("OIDC_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = env("OIDC_CLIENT_SECRET")
    OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
    OIDC_DISCOVERY_URL = env("OIDC_DISCOVERY_URL", default="") or (
        f"{OIDC_ISSUER}/.well-known/openid-configuration" if OIDC_ISSUER else ""
    )
    for _endpoint in ("AUTHORIZATION", "TOKEN", "USER", "JWKS"):
        if os.environ.get(f"OIDC_{_endpoint}_ENDPOINT"):
            vars()[f"OIDC_OP_{_endpoint}_ENDPOINT"] = os.environ[f"OIDC_{_endpoint}_ENDPOINT"]
    if not OIDC_DISCOVERY_URL and not os.environ.get("OIDC_AUTHORIZATION_ENDPOINT"):
        raise ImproperlyConfigured("OIDC_CLIENT_ID is set: set OIDC_ISSUER or OIDC_DISCOVERY_URL too")
    OIDC_RP_SIGN_ALGO = env("OIDC_SIGN_ALGORITHM", default="RS256")
    OIDC_RP_SCOPES = env("OIDC_SCOPES", default="openid email profile")
    OIDC_MATCH_CLAIM = env("OIDC_MATCH_CLAIM", default="email")
    OIDC_MATCH_FIELD = env("OIDC_MATCH_FIELD", default="email")
    if OIDC_MATCH_FIELD not in {"email", "employee_number"}:
        raise ImproperlyConfigured(f"OIDC_MATCH_FIELD must be email or employee_number, got {OIDC_MATCH_FIELD!r}")
    OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
    OIDC_HR_GROUP = env("OIDC_HR_GROUP", default="")
    OIDC_CREATE_USER = False
    OIDC_USE_PKCE = True
    AUTHENTICATION_BACKENDS.append("apps.accounts.oidc.RosterOIDCBackend")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: an anonymous caller then gets 401 with `WWW-Authenticate: Bearer`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.InScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_THROTTLE_TOKEN", default="1200/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
    },
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.Pagination",
    "EXCEPTION_HANDLER": "apps.api.exceptions.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "credtrack API",
    "DESCRIPTION": "Staff life-support credential tracking.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components: read-only fields and file uploads are then described exactly.
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's documentation describes every field of personal data: for signed-in users unless opened up.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if env_bool("API_DOCS_PUBLIC", default=False)
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "ENUM_NAME_OVERRIDES": {
        "ComplianceStatusEnum": "apps.api.serializers.STATUS_CHOICES",
        "OutboxStatusEnum": "apps.notifications.models.Notification.Status",
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler on "django" printed every line a second time through the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Tasks run in-process (no REDIS_URL) would log one "Task ... succeeded" line each, in the middle of
        # whatever command or page queued them.
        **({} if REDIS_URL else {"celery.app.trace": {"level": "WARNING"}}),
    },
}
