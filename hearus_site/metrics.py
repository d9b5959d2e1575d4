"""Prometheus metrics: serving them, django-prometheus's request metrics, and Celery's tasks.

The live caption path defines its own in `captions.metrics`.

Every process records into the `prometheus_client` default registry. With several processes (a
Celery prefork worker, or more than one Daphne in a container) set `PROMETHEUS_MULTIPROC_DIR` to an
empty folder shared by those processes: each then writes its values to files there, and whoever
serves the metrics (`/metrics` in Daphne, the worker's own port) adds them up with
`MultiProcessCollector`. The folder must be empty when the container starts (the image's
entrypoint empties it), or a restarted process adds its predecessor's counts.

`/metrics` is for scrapers inside the cluster: a request that came through the load balancer
(it sets `X-Forwarded-For`) gets 404, and the Ingress answers 404 for that path itself as well.
"""

import logging
import os
import threading
import time
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    start_http_server,
)

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

TASK_DURATION = Histogram(
    "hearus_celery_task_duration_seconds",
    "Run time of Celery tasks, by task and final state.",
    ["task", "state"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0),
)
TASK_FAILURES = Counter(
    "hearus_celery_task_failures",
    "Celery tasks that raised an exception, by task.",
    ["task"],
)


# -- serving ----------------------------------------------------------------------------------


def multiprocess_registry() -> CollectorRegistry | None:
    """A registry that adds up every process's files, or None outside multiprocess mode."""
    if not os.environ.get(MULTIPROC_ENV):
        return None
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    """django-prometheus's exporter (multiprocess-aware), for in-cluster scrapers only."""
    if "HTTP_X_FORWARDED_FOR" in request.META:
        raise Http404("not here")
    from django_prometheus.exports import ExportToDjangoView  # type: ignore[import-untyped]

    response: HttpResponse = ExportToDjangoView(request)
    return response


def start_worker_metrics_server(port: int) -> None:
    """Serve /metrics on `port` from a Celery worker's main process (it has no HTTP server)."""
    registry = multiprocess_registry()
    if registry is None:
        logger.warning(
            "%s is not set: a prefork worker's child processes will not be counted", MULTIPROC_ENV
        )
        start_http_server(port)
    else:
        start_http_server(port, registry=registry)
    logger.info("worker metrics on port %s", port)


# -- Celery -----------------------------------------------------------------------------------

_task_started: dict[str, float] = {}
_task_started_lock = threading.Lock()


def _task_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        with _task_started_lock:
            _task_started[task_id] = time.monotonic()


def _task_postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    with _task_started_lock:
        started = _task_started.pop(task_id or "", None)
    if started is not None and task is not None:
        TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(
            time.monotonic() - started
        )


def _task_failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def _worker_init(**_: Any) -> None:
    """In the worker's main process, before its children fork."""
    from django.conf import settings

    if settings.WORKER_METRICS_PORT:
        start_worker_metrics_server(settings.WORKER_METRICS_PORT)


def _worker_process_shutdown(pid: int | None = None, **_: Any) -> None:
    """A prefork child exits: its live gauges must stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def connect_celery_signals() -> None:
    from celery import signals

    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
    signals.task_failure.connect(_task_failure, weak=False)
    signals.worker_init.connect(_worker_init, weak=False)
    signals.worker_process_shutdown.connect(_worker_process_shutdown, weak=False)
