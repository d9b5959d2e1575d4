"""Transcribing an uploaded recording: the Celery task `transcribe_recording` (queue `media`)
decodes the stored file with PyAV, transcribes it in chunks reporting its progress, and stores
every segment in one transaction; the lecture then ends, which queues its notes
(`classroom.notes`). Uploads and their rules are `classroom.recordings`.

The decoded audio is also kept (`lectures.audio`, Ogg Opus, second 0 = the recording's start,
as for the captions' times) so the archive plays it; it is put in place together with the
captions, so a superseded or failed attempt never replaces what a listener hears.

Progress lives in the cache (`hearus:lecture:<id>:recording-progress`) and is published to the
lecture's sockets as `progress` messages; both are best-effort. The lecture's
`status_changed_at` is the task's heartbeat (`classroom.recovery`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import numpy as np
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.fields.files import FileField
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from captions import capacity
from captions.engine import get_engine
from captions.models import TranscriptSegment
from classroom import notes
from classroom.jobs import RETRIED, LectureTask
from lectures import events, lifecycle
from lectures.audio import encode_pending_audio, keep_pending_audio
from lectures.models import Lecture
from ml.asr import SAMPLE_RATE, FloatAudio
from ml.media import MediaError, MediaTooLongError, decode_media
from ml.offline import transcribe_in_chunks
from ml.subtitles import Cue
from ml.whisper_model import ModelAssemblyError, ModelNotFoundError

logger = logging.getLogger(__name__)

PROGRESS_TTL_S = 6 * 3600
# Each file's time budget: this much, plus this many seconds per second of audio. Past it the
# task stops between chunks and the lecture fails with the reason.
TIME_BUDGET_BASE_S = 600.0
TIME_BUDGET_PER_AUDIO_S = 0.75


class Progress(TypedDict):
    """Where a recording's transcription stands. `stage`: queued, decoding, transcribing,
    waiting (for a live lecture on the same server, embedded setup), storing or notes;
    `percent` of the audio transcribed; seconds of audio done / in all."""

    stage: str
    percent: int
    done_s: float | None
    total_s: float | None


class RecordingError(Exception):
    """A recording that cannot be transcribed; the message is for the instructor."""


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def recording_field() -> FileField:
    field = Lecture._meta.get_field("recording")
    assert isinstance(field, FileField)
    return field


def recording_storage() -> Storage:
    return recording_field().storage


# -- progress --------------------------------------------------------------------------------------


def progress_key(lecture_id: int) -> str:
    return f"hearus:lecture:{lecture_id}:recording-progress"


def progress_get(lecture_id: int) -> Progress | None:
    value = cache.get(progress_key(lecture_id))
    return value if isinstance(value, dict) else None  # type: ignore[return-value]


def progress_set(
    lecture_id: int,
    stage: str,
    percent: int,
    *,
    done_s: float | None = None,
    total_s: float | None = None,
) -> None:
    """Remember and publish where the transcription stands. Best-effort: a cache or channel
    layer hiccup must not fail a long transcription."""
    progress: Progress = {
        "stage": stage,
        "percent": max(0, min(100, percent)),
        "done_s": None if done_s is None else round(done_s, 1),
        "total_s": None if total_s is None else round(total_s, 1),
    }
    try:
        cache.set(progress_key(lecture_id), progress, PROGRESS_TTL_S)
        events.publish(lecture_id, events.progress_message(dict(progress)))
    except Exception:
        logger.warning("could not report progress of lecture %s", lecture_id, exc_info=True)


def progress_clear(lecture_id: int) -> None:
    try:
        cache.delete(progress_key(lecture_id))
    except Exception:
        logger.warning("could not clear progress of lecture %s", lecture_id, exc_info=True)


def current_progress(lecture: Lecture) -> Progress | None:
    """The progress to show: only while the recording is on its way to ready."""
    if not lecture.recording or lecture.status not in (
        Lecture.Status.PROCESSING,
        Lecture.Status.ENDED,
    ):
        return None
    return progress_get(lecture.pk)


# -- the task's work -------------------------------------------------------------------------------


@contextlib.contextmanager
def readable_path(name: str) -> Iterator[Path]:
    """A local path to the stored recording (a temporary copy for remote or memory storage)."""
    storage = recording_storage()
    try:
        local = Path(storage.path(name))
    except NotImplementedError:  # remote storage
        local = None
    if local is not None and local.is_file():
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="hearus-recording-") as folder:
        copy = Path(folder) / Path(name).name  # error messages name the file as stored
        with storage.open(name, "rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        yield copy


def transcribe(lecture_id: int, recording_name: str | None = None) -> str:
    """Decode, transcribe and store the lecture's recording; returns what happened.

    Does nothing unless the lecture is processing its recording (`recording_name`, when given,
    must still be the lecture's: a newer upload supersedes). Raises on failure; the task records
    the reason. All segments are written in one transaction at the end, replacing any the
    lecture had, so a redelivered task gives the same rows and a failure leaves none.
    """
    with translation.override(settings.LANGUAGE_CODE):  # reasons in the site's language
        return _transcribe_recording(lecture_id, recording_name)


# In the embedded setup (tasks in the web process) a recording is transcribed by the model the
# live lectures use, one decode at a time: it waits between chunks of this length while a live
# lecture is being transcribed here, so live captions never queue behind a recording.
EMBEDDED_CHUNK_S = 30.0
YIELD_POLL_S = 1.0


def _shares_live_model() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def yield_to_live_lectures(lecture_id: int, done_s: float, all_s: float) -> float:
    """Wait while this process transcribes a live lecture (embedded setup only); returns the
    seconds waited. The progress says why the recording pauses."""
    if not _shares_live_model() or capacity.lectures_carried() == 0:
        return 0.0
    started = time.monotonic()
    percent = int(100 * done_s / all_s) if all_s else 0
    progress_set(lecture_id, "waiting", percent, done_s=done_s, total_s=all_s)
    while capacity.lectures_carried() > 0:
        time.sleep(YIELD_POLL_S)
    return time.monotonic() - started


def _transcribe_recording(lecture_id: int, recording_name: str | None) -> str:
    lecture = Lecture.objects.select_related("course").filter(pk=lecture_id).first()
    if lecture is None:
        return "missing"
    name = lecture.recording.name
    if lecture.status != Lecture.Status.PROCESSING or not name:
        logger.info("lecture %s is %s: no recording to transcribe", lecture_id, lecture.status)
        return str(lecture.status)
    if recording_name is not None and recording_name != name:
        return "superseded"

    started = time.monotonic()
    progress_set(lecture_id, "decoding", 0)
    try:
        with readable_path(name) as path:
            # The limit holds for the decoded audio, not only for what the header declared.
            audio = decode_media(path, max_seconds=settings.RECORDING_MAX_SECONDS)
    except MediaTooLongError as error:
        raise RecordingError(
            _("The recording is longer than %(limit)s, the most accepted. Split it.")
            % {"limit": clock(settings.RECORDING_MAX_SECONDS)}
        ) from error
    # Kept at once (the decode is what costs; Opus adds ~0.2 CPU s a minute of audio), but only
    # put in place with the captions (store_segments).
    pending, _seconds = encode_pending_audio(lecture_id, pcm16_chunks(audio))
    try:
        return _transcribe_decoded(lecture, name, audio, pending, started)
    finally:
        pending.unlink(missing_ok=True)  # kept by now, or not to be kept


def _transcribe_decoded(
    lecture: Lecture, name: str, audio: FloatAudio, pending: Path, started: float
) -> str:
    lecture_id = lecture.pk
    total_s = audio.size / SAMPLE_RATE
    budget_s = TIME_BUDGET_BASE_S + TIME_BUDGET_PER_AUDIO_S * total_s
    waited_s = 0.0

    def chunk_done(done_s: float, all_s: float) -> None:
        nonlocal waited_s
        if done_s < all_s:
            waited_s += yield_to_live_lectures(lecture_id, done_s, all_s)
        # The heartbeat the recovery sweep reads (classroom.recovery): this worker is alive.
        Lecture.objects.filter(pk=lecture_id, status=Lecture.Status.PROCESSING).update(
            status_changed_at=timezone.now()
        )
        progress_set(
            lecture_id,
            "transcribing",
            int(100 * done_s / all_s) if all_s else 100,
            done_s=done_s,
            total_s=all_s,
        )
        if done_s < all_s and time.monotonic() - started - waited_s > budget_s:
            raise RecordingError(
                _(
                    "Transcribing took longer than its time budget (%(budget)s for %(length)s "
                    "of audio). The server may be busy: retry later."
                )
                % {"budget": clock(budget_s), "length": clock(total_s)}
            )

    progress_set(lecture_id, "transcribing", 0, done_s=0.0, total_s=total_s)
    cues = transcribe_in_chunks(
        get_engine(),
        audio,
        language=lecture.course.language,
        # Embedded, the recording shares the live lectures' model: short chunks let it yield.
        chunk_s=min(settings.RECORDING_CHUNK_S, EMBEDDED_CHUNK_S)
        if _shares_live_model()
        else settings.RECORDING_CHUNK_S,
        on_chunk=chunk_done,
    )
    del audio
    progress_set(lecture_id, "storing", 100, done_s=total_s, total_s=total_s)
    return store_segments(lecture_id, name, cues, audio=pending)


# PCM16 handed to the encoder this many samples at a time (a 4 h recording is 460 MB as PCM16).
_PCM_CHUNK_SAMPLES = 30 * SAMPLE_RATE


def pcm16_chunks(audio: FloatAudio) -> Iterator[bytes]:
    """Decoded float samples as little-endian PCM16, a piece at a time."""
    for start in range(0, audio.size, _PCM_CHUNK_SAMPLES):
        piece = np.clip(audio[start : start + _PCM_CHUNK_SAMPLES], -1.0, 1.0)
        yield (piece * 32767).astype("<i2").tobytes()


def store_segments(
    lecture_id: int, recording_name: str, cues: list[Cue], *, audio: Path | None = None
) -> str:
    """The recording's captions as the lecture's transcript, all at once; the lecture ends and
    its notes are queued. `audio` (from `encode_pending_audio`) becomes the kept audio with them,
    under the same lock, so the captions and what plays under them always come from one file."""
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
        if lecture.recording.name != recording_name or lecture.status == Lecture.Status.LIVE:
            return "superseded"
        if audio is not None:
            keep_pending_audio(lecture_id, audio)
        TranscriptSegment.objects.filter(lecture=lecture).delete()
        TranscriptSegment.objects.bulk_create(
            [
                TranscriptSegment(
                    lecture=lecture,
                    seq=seq,
                    start_ms=cue.start_ms,
                    end_ms=max(cue.end_ms, cue.start_ms),
                    text=cue.text,
                )
                for seq, cue in enumerate((cue for cue in cues if cue.text.strip()), 1)
            ],
            batch_size=500,
        )
        lifecycle.change_status(
            lecture_id,
            Lecture.Status.ENDED,  # which queues the notes
            ended_at=lecture.ended_at or timezone.now(),
            failure_reason="",
        )
        transaction.on_commit(lambda: progress_set(lecture_id, "notes", 100))
    return str(Lecture.Status.ENDED)


def failure_reason(error: BaseException) -> str:
    """Why the transcription failed, for the instructor, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        if isinstance(error, RecordingError):
            return str(error)
        if isinstance(error, MediaError):
            return _("The recording could not be decoded: %(reason)s") % {"reason": error}
        if isinstance(error, (SoftTimeLimitExceeded, TimeLimitExceeded)):
            return _("Transcribing the recording took longer than the worker's time limit.")
        if isinstance(error, (ModelNotFoundError, ModelAssemblyError)):
            return _("The speech model is not available: %(reason)s") % {"reason": error}
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return _("Transcription failed (%(error)s). Retry; if it fails again, tell staff.") % {
            "error": detail
        }


def recording_failed(lecture_id: int, error: BaseException) -> None:
    """The task gave up: the lecture is failed with the reason (its transcript untouched)."""
    notes.mark_failed(lecture_id, failure_reason(error))
    progress_clear(lecture_id)


class RecordingTask(LectureTask):
    def record_failure(self, lecture_id: int, error: BaseException) -> None:
        recording_failed(lecture_id, error)


@shared_task(
    base=RecordingTask,
    name="classroom.transcribe_recording",
    **RETRIED,
    # Static backstops below the broker's visibility timeout; each file also has its own
    # budget scaled to its length, checked between chunks (see `transcribe`).
    soft_time_limit=settings.RECORDING_SOFT_TIME_LIMIT_S,
    time_limit=settings.RECORDING_TIME_LIMIT_S,
)
def transcribe_recording(self: Task, lecture_id: int, recording_name: str | None = None) -> str:
    """An uploaded recording (queue `media`): decode, transcribe, store the segments in one
    transaction; the lecture ends and its notes are queued. Idempotent; a newer upload
    supersedes it."""
    return transcribe(lecture_id, recording_name)
