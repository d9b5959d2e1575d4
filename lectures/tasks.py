"""Celery tasks: the lecture notes (queue `nlp`). Thin wrappers around `lectures.notes`.

Every task is idempotent and acknowledged late (a worker that dies mid-task leaves it queued for
another), so a redelivery recomputes the same rows. Enqueue through `after_commit`, never
`.delay()` inside a transaction: a worker must not look for rows that are not committed yet.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from lectures import notes

logger = logging.getLogger(__name__)

# Worth another try: the database or Redis went away for a moment (failover, restart).
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
MAX_RETRIES = 5


def after_commit(task: Any, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one).

    In the embedded setup (no broker) tasks run in this process: on a background thread, so
    neither the request that ended a lecture nor the caption path waits for NLP.
    """

    def send() -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            task.delay(*args)
        elif settings.EAGER_TASKS_IN_BACKGROUND:
            threading.Thread(
                target=_run_in_background, args=(task, args), name=f"task-{task.name}", daemon=True
            ).start()
        else:  # tests: at once, as a worker would run it (a failure is recorded, not raised)
            task.apply(args=args, throw=False)

    # robust: a broker hiccup (or, embedded, a failing task) must not fail the caller's request;
    # a failing task records its reason on the lecture itself.
    transaction.on_commit(send, robust=True)


def _run_in_background(task: Any, args: tuple[Any, ...]) -> None:
    try:
        task.apply(args=args, throw=False)
    except Exception:
        logger.exception("background task %s%r failed", task.name, args)
    finally:
        close_old_connections()


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, SoftTimeLimitExceeded):
        return f"Computing the notes took longer than {settings.NOTES_SOFT_TIME_LIMIT_S} s."
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class LectureTask(Task):
    """A task about one lecture (its first argument) that records on the lecture why it failed,
    once no retry is left."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        lecture_id = args[0] if args else kwargs.get("lecture_id")
        if lecture_id is not None:
            self.record_failure(int(lecture_id), exc)

    def record_failure(self, lecture_id: int, error: BaseException) -> None:
        raise NotImplementedError


class NotesTask(LectureTask):
    def record_failure(self, lecture_id: int, error: BaseException) -> None:
        notes.mark_failed(lecture_id, _failure_reason(error))


# Acknowledged late, retried with a growing, jittered wait when the database or Redis blinks.
RETRIED = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": MAX_RETRIES,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


@shared_task(
    base=NotesTask,
    **RETRIED,
    soft_time_limit=settings.NOTES_SOFT_TIME_LIMIT_S,
    time_limit=settings.NOTES_TIME_LIMIT_S,
)
def process_lecture(self: Task, lecture_id: int) -> str:
    """Keywords and summary of an ended lecture; the lecture becomes ready (or failed)."""
    return notes.process_lecture(lecture_id)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=2,
    retry_backoff=2,
    soft_time_limit=120,
    time_limit=150,
    # A refresh that waited this long is superseded by a newer one anyway.
    expires=300,
)
def refresh_live_notes(lecture_id: int) -> bool:
    """While a lecture is live: fresh keywords for its viewers every few dozen captions."""
    return notes.refresh_live_keywords(lecture_id)


class RecordingTask(LectureTask):
    def record_failure(self, lecture_id: int, error: BaseException) -> None:
        from lectures import recordings  # lectures.recordings imports this module

        recordings.recording_failed(lecture_id, error)


@shared_task(
    base=RecordingTask,
    **RETRIED,
    # Static backstops below the broker's visibility timeout; each file also has its own
    # budget scaled to its length, checked between chunks (lectures.recordings).
    soft_time_limit=settings.RECORDING_SOFT_TIME_LIMIT_S,
    time_limit=settings.RECORDING_TIME_LIMIT_S,
)
def transcribe_recording(self: Task, lecture_id: int, recording_name: str | None = None) -> str:
    """An uploaded recording (queue `media`): decode, transcribe, store the segments in one
    transaction, then queue `process_lecture`. Idempotent; a newer upload supersedes it."""
    from lectures import recordings

    return recordings.transcribe_recording(lecture_id, recording_name)
