"""After a live lecture: its journal's uncaptioned audio captioned, then joined into the one
audio file the archive plays (`captions.journal`, `captions.unheard`; queue `media`).

Queued when the lecture ends and again whenever a broadcast session releases its segment while
the lecture is not live (the usual case: the session stores its last words just after the end),
and by the recovery sweep for leftovers. The task is idempotent and safe to run twice at once:
segments are claimed under locks, and joining takes a lock of its own.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.dispatch import receiver

from captions import journal, unheard
from captions.engine import get_engine
from captions.services import broadcast_finished
from classroom.jobs import RETRIED, after_commit
from lectures import lifecycle
from lectures.audio import audio_root
from lectures.models import Lecture

logger = logging.getLogger(__name__)


def keep_audio(lecture_id: int) -> str:
    """Caption what dead sessions left, then join the segments if no session still runs."""
    status = Lecture.objects.filter(pk=lecture_id).values_list("status", flat=True).first()
    if status is None:
        return "missing"
    stored, held = unheard.caption_unheard(lecture_id, get_engine)
    if held or status == Lecture.Status.LIVE:
        return "live"  # the session that holds a segment queues this again when it is done
    joined = journal.keep_lecture_audio(lecture_id)
    return f"kept ({stored} recovered)" if joined else f"nothing to join ({stored} recovered)"


@shared_task(name="classroom.keep_lecture_audio", **RETRIED, soft_time_limit=1800, time_limit=2100)
def keep_lecture_audio(self: Task, lecture_id: int) -> str:
    return keep_audio(lecture_id)


def lectures_with_journals() -> list[int]:
    """Lectures whose audio folder still holds journal segments."""
    root = audio_root()
    if not root.is_dir():
        return []
    return sorted(
        int(folder.name)
        for folder in root.iterdir()
        if folder.name.isdigit() and any(folder.glob("*.pcm"))
    )


def queue_leftover_journals() -> list[int]:
    """For the recovery sweep: lectures no longer live whose segments were never joined."""
    candidates = lectures_with_journals()
    finished = list(
        Lecture.objects.filter(pk__in=candidates)
        .exclude(status=Lecture.Status.LIVE)
        .values_list("pk", flat=True)
    )
    for lecture_id in finished:
        after_commit(keep_lecture_audio, lecture_id)
    return finished


@receiver(lifecycle.status_changed, dispatch_uid="classroom.journal_tasks.lecture_ended")
def _lecture_ended(*, lecture: Lecture, previous: str, **_kwargs: Any) -> None:
    if lecture.status == Lecture.Status.ENDED and previous == Lecture.Status.LIVE:
        after_commit(keep_lecture_audio, lecture.pk)


@receiver(broadcast_finished, dispatch_uid="classroom.journal_tasks.broadcast_finished")
def _broadcast_finished(*, lecture_id: int, **_kwargs: Any) -> None:
    status = Lecture.objects.filter(pk=lecture_id).values_list("status", flat=True).first()
    if status is not None and status != Lecture.Status.LIVE:
        after_commit(keep_lecture_audio, lecture_id)
