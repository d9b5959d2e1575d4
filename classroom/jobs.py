"""Celery tasks: the lecture notes (queue `nlp`). Thin wrappers around `classroom.notes`.

Every task is idempotent and acknowledged late (a worker that dies mid-task leaves it queued for
another), so a redelivery recomputes the same rows. Enqueue through `after_commit`, never
`.delay()` inside a transaction: a worker must not look for rows that are not committed yet.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
