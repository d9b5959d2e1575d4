"""Lectures whose background work died: found by a periodic sweep and queued again.

A worker killed mid-task (OOM, a node reclaimed, `kill -9`) leaves its lecture `processing`
and its message unacknowledged in Redis until the broker's visibility timeout, hours later (it
must exceed the longest task). A killed pool child is requeued at once (task_reject_on_worker_lost);
for a killed worker this sweep, run every minute by Celery beat, queues the work again:

- notes processing longer than the notes' hard time limit plus a grace period;
- a recording whose transcription has not reported progress (`status_changed_at` is its
  heartbeat) for `RECORDING_STALL_S`;
- an ended lecture whose notes never started (their message was lost with Redis) after
  `NOTES_START_STALL_S`;
- a lecture no longer live whose audio journal was never joined (`classroom.journal_tasks`).

Running the work twice is harmless: both tasks are idempotent and replace their results in one
transaction, so a lecture still ends with exactly one set of notes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from classroom import journal_tasks, notes, recording_transcription
from classroom.jobs import after_commit
from lectures.models import Lecture

logger = logging.getLogger(__name__)


def is_stuck(lecture: Lecture) -> bool:
    """Whether the lecture's background work should have ended (or reported) by now."""
    if lecture.status_changed_at is None:
        return lecture.status in (Lecture.Status.PROCESSING, Lecture.Status.ENDED)
    age = timezone.now() - lecture.status_changed_at
    if lecture.status == Lecture.Status.ENDED:
        return age > timedelta(seconds=settings.NOTES_START_STALL_S)
    if lecture.status != Lecture.Status.PROCESSING:
        return False
    if _transcribing(lecture):
        return age > timedelta(seconds=settings.RECORDING_STALL_S)
    return age > notes.notes_stalled_after()


def _transcribing(lecture: Lecture) -> bool:
    return bool(lecture.recording) and not lecture.segments.exists()


def requeue(lecture: Lecture) -> str:
    """Queue the lecture's work again; returns which."""
    # The requeued work starts its clock afresh (not a status change: no one is told).
    Lecture.objects.filter(pk=lecture.pk).update(status_changed_at=timezone.now())
    if lecture.status == Lecture.Status.PROCESSING and _transcribing(lecture):
        after_commit(
            recording_transcription.transcribe_recording, lecture.pk, lecture.recording.name
        )
        return "transcription"
    after_commit(notes.process_lecture, lecture.pk)
    return "notes"


def recover_stuck_lectures() -> list[tuple[int, str]]:
    """Queue again the work of every stuck lecture; returns (lecture id, what) for each."""
    candidates = Lecture.objects.filter(
        Q(status=Lecture.Status.PROCESSING) | Q(status=Lecture.Status.ENDED)
    )
    recovered = [(lecture.pk, requeue(lecture)) for lecture in candidates if is_stuck(lecture)]
    for lecture_id, what in recovered:
        logger.warning("lecture %s: %s was stuck; queued again", lecture_id, what)
    return recovered


@shared_task(name="classroom.recover_stuck_lectures", acks_late=True, expires=300)
def recover_stuck_lectures_task() -> int:
    """Celery beat runs this every RECOVERY_SWEEP_S (see CELERY_BEAT_SCHEDULE)."""
    return len(recover_stuck_lectures()) + len(journal_tasks.queue_leftover_journals())
