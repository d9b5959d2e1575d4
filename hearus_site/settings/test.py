"""Tests: the embedded defaults unless DATABASE_URL / REDIS_URL point at real services."""

from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The Daphne and browser tests serve the product from a second process, which must open the
# same test database: on SQLite that means a file, not memory.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}  # noqa: F405

# The Daphne server of the end-to-end tests serves static files without collectstatic.
WHITENOISE_USE_FINDERS = True
