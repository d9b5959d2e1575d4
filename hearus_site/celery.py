"""The Celery app. Without REDIS_URL tasks run in-process (CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")

app = Celery("hearus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
