"""How long a lecture's audio is kept: `LECTURE_AUDIO_RETENTION_DAYS` after the lecture ended
(0: for as long as the lecture exists). A periodic sweep (Celery beat, `CELERY_BEAT_SCHEDULE`)
deletes what is older; the captions, notes and the uploaded recording's row stay. Deleting a
lecture deletes its audio at once (`lectures.models`), whatever this setting says.

The sweep walks the audio folders, not the lectures, so its cost follows what is kept; a folder
whose lecture no longer exists (its deletion's clean-up did not run: a crash between the commit
and the delete) goes too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from lectures.audio import audio_root, delete_audio
from lectures.models import Lecture

logger = logging.getLogger(__name__)


def kept_lecture_ids() -> list[int]:
    """The lectures that have an audio folder (kept audio, or a journal)."""
    try:
        return sorted(int(entry.name) for entry in audio_root().iterdir() if entry.name.isdigit())
    except FileNotFoundError:
        return []


def expire_kept_audio(*, now: datetime | None = None) -> list[int]:
    """Delete the audio of lectures that ended more than the retention ago, and of lectures
    that no longer exist; returns their ids. Nothing while the retention is 0."""
    days = settings.LECTURE_AUDIO_RETENTION_DAYS
    if days <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    ids = kept_lecture_ids()
    lectures = {
        pk: (status, ended_at)
        for pk, status, ended_at in Lecture.objects.filter(pk__in=ids).values_list(
            "pk", "status", "ended_at"
        )
    }

    def expired(lecture_id: int) -> bool:
        if lecture_id not in lectures:
            return True  # the lecture is gone
        status, ended_at = lectures[lecture_id]
        # A resumed lecture is live again (ended_at cleared): its audio is being added to.
        return status != Lecture.Status.LIVE and ended_at is not None and ended_at < cutoff

    expired_ids = [lecture_id for lecture_id in ids if expired(lecture_id)]
    for lecture_id in expired_ids:
        delete_audio(lecture_id)
    if expired_ids:
        logger.info(
            "deleted the kept audio of %d lectures (retention %d days)", len(expired_ids), days
        )
    return expired_ids


@shared_task(name="classroom.expire_kept_audio", acks_late=True, expires=3600)
def expire_kept_audio_task() -> int:
    """Celery beat runs this every AUDIO_RETENTION_SWEEP_S (see CELERY_BEAT_SCHEDULE)."""
    return len(expire_kept_audio())
