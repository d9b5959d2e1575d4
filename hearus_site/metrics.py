"""Prometheus metrics: django-prometheus's request metrics plus the live caption path and Celery.

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
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LIVE_LECTURES = Gauge(
    "hearus_live_lectures",
    "Lectures being transcribed right now (an open broadcast session with its ASR).",
    multiprocess_mode="livesum",
)
CONNECTED_VIEWERS = Gauge(
    "hearus_connected_viewers",
    "Viewers connected to a lecture's caption socket.",
    multiprocess_mode="livesum",
)
CAPTION_LATENCY = Histogram(
    "hearus_caption_latency_seconds",
    "From the moment the last audio of a final caption reached the server to the caption being "
    "stored and published to viewers.",
    buckets=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0),
)
ASR_REAL_TIME_FACTOR = Histogram(
    "hearus_asr_real_time_factor",
    "Seconds of inference per second of new audio, one observation per live transcription step "
    "(above 1: the lecture falls behind).",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0),
)
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


# -- the live caption path --------------------------------------------------------------------


class AudioArrivals:
    """When each stretch of a broadcast's audio reached the server, to time its captions.

    Stream time (ms since the broadcast's first frame) -> monotonic arrival time of the frame
    that carried it. Captions come in stream order, so entries before a caption are dropped.
    """

    BYTES_PER_MS = 32  # 16 kHz, 16-bit mono

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._received_ms = 0.0
        self._ends: list[float] = []  # stream ms where each frame ended
        self._times: list[float] = []  # monotonic time it arrived

    def received(self, pcm16: bytes) -> None:
        self._received_ms += len(pcm16) / self.BYTES_PER_MS
        self._ends.append(self._received_ms)
        self._times.append(self._clock())

    def latency_s(self, stream_end_ms: float) -> float | None:
        """Seconds since the audio up to `stream_end_ms` arrived; None if it never did."""
        index = bisect_left(self._ends, stream_end_ms)
        if index >= len(self._ends):
            index = len(self._ends) - 1
        if index < 0:
            return None
        arrived = self._times[index]
        del self._ends[:index]
        del self._times[:index]
        return max(0.0, self._clock() - arrived)


def observe_caption_latency(seconds: float | None) -> None:
    if seconds is not None:
        CAPTION_LATENCY.observe(seconds)


class RealTimeFactor:
    """Turns a transcriber's running totals into one observation per transcription step."""

    def __init__(self) -> None:
        self._audio_s = 0.0
        self._inference_s = 0.0

    def update(self, *, audio_s: float, inference_s: float) -> None:
        new_audio = audio_s - self._audio_s
        new_inference = inference_s - self._inference_s
        self._audio_s, self._inference_s = audio_s, inference_s
        if new_audio > 0 and new_inference > 0:
            ASR_REAL_TIME_FACTOR.observe(new_inference / new_audio)


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
