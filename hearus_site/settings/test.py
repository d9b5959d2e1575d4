"""Tests: the embedded defaults unless DATABASE_URL / REDIS_URL point at real services."""

import os
from typing import Any

from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
STORAGES = {
    # Memory, unless a test's server process must keep files on disk (the upload memory test).
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
        if env.bool("TEST_MEDIA_ON_DISK", default=False)  # noqa: F405
        else "django.core.files.storage.InMemoryStorage"
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Each test run keeps lecture audio in a folder of its own (tests/conftest.py removes it); a Daphne
# server or worker started by a test inherits it through the environment.
LECTURE_AUDIO_ROOT = env.path(  # noqa: F405
    "LECTURE_AUDIO_ROOT",
    default=str(BASE_DIR / "var" / f"test-audio-{os.getpid()}"),  # noqa: F405
)
os.environ.setdefault("LECTURE_AUDIO_ROOT", str(LECTURE_AUDIO_ROOT))

# The Daphne and browser tests serve the product from a second process, which must open the
# same test database: on SQLite that means a file, not memory.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    # One file per test run, so two runs at once (a developer's and an editor's) never share it.
    _test_db = BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(_test_db)}  # noqa: F405

# The Daphne server of the end-to-end tests serves static files without collectstatic.
WHITENOISE_USE_FINDERS = True

# Tasks run synchronously once their transaction commits, so a test sees their result, even
# with REDIS_URL set; the Celery worker test turns this off for itself.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)  # noqa: F405
# A Daphne server started by the end-to-end tests runs them in the background, as the embedded
# product does, so that computing notes never holds Django's one sync thread while a
# broadcaster stores its last captions.
EAGER_TASKS_IN_BACKGROUND = env.bool("EAGER_TASKS_IN_BACKGROUND", default=False)  # noqa: F405

# Tests read published messages after the work that sent them (notes run at once), which on a
# busy machine can take longer than the layers' default 60 s message expiry.
_layer: dict[str, Any] = CHANNEL_LAYERS["default"]  # noqa: F405
_layer["CONFIG"] = {**_layer.get("CONFIG", {}), "expiry": 600}

# Tests run several lectures in one process at once; the capacity refusal has its own test, which
# sets LIVE_CAPACITY for its server.
LIVE_CAPACITY = env.int("LIVE_CAPACITY", default=1000)  # noqa: F405
