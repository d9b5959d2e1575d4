"""The Celery app. Without REDIS_URL tasks run in-process (CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

from hearus_site import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")

app = Celery("hearus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task durations and failures for /metrics; the worker serves them on WORKER_METRICS_PORT.
metrics.connect_celery_signals()
