"""Uploaded recordings: a lecture's captions made from an audio or video file afterwards.

Services (`recording_upload`, `recording_retry`) check, store and queue; the Celery task
`transcribe_recording` (queue `media`, below) decodes the file with PyAV, transcribes it in
chunks (reporting progress) and stores every segment in one transaction; the lecture then ends,
which queues its notes (`classroom.notes`).

Which lectures accept a recording (`recording_refusal` says why not):
- only the course's instructors and staff upload;
- the lecture is scheduled (never broadcast), ended, ready or failed; never while it is live
  or being processed;
- it has no live captions. Captions broadcast live are never mixed with, or replaced by, a
  recording's. A lecture whose transcript came from an earlier recording may get a new one:
  that transcript, its keywords and summary are replaced.
- the file is at most `RECORDING_MAX_BYTES`, audio or video judged by its content (the name and
  extension play no part), with a sound track, at most `RECORDING_MAX_SECONDS` long.

Progress lives in the cache (`hearus:lecture:<id>:recording-progress`) and is published to the
lecture's sockets as `progress` messages; both are best-effort.
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

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FileField
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from captions.engine import get_engine
from captions.models import TranscriptSegment
from classroom import notes
from classroom.jobs import RETRIED, LectureTask, after_commit
from lectures import events, lifecycle
from lectures.models import Keyword, Lecture, Summary
from lectures.selectors import require_course_manager
from ml.asr import SAMPLE_RATE
from ml.media import (
    EXTENSIONS,
    MediaError,
    MediaTooLongError,
    decode_media,
    probe_media,
    sniff_media_type,
)
from ml.offline import transcribe_in_chunks
from ml.subtitles import Cue
from ml.whisper_model import ModelAssemblyError, ModelNotFoundError

logger = logging.getLogger(__name__)

# States a recording may be uploaded in (see the module's docstring).
ACCEPTING = (
    Lecture.Status.SCHEDULED,
    Lecture.Status.ENDED,
    Lecture.Status.READY,
    Lecture.Status.FAILED,
)
PROGRESS_TTL_S = 6 * 3600
# Each file's time budget: this much, plus this many seconds per second of audio. Past it the
# task stops between chunks and the lecture fails with the reason.
TIME_BUDGET_BASE_S = 600.0
TIME_BUDGET_PER_AUDIO_S = 0.75


class Progress(TypedDict):
    """Where a recording's transcription stands. `stage`: queued, decoding, transcribing,
    storing or notes; `percent` of the audio transcribed; seconds of audio done / in all."""

    stage: str
    percent: int
    done_s: float | None
    total_s: float | None


class RecordingError(Exception):
    """A recording that cannot be transcribed; the message is for the instructor."""


# -- rules ---------------------------------------------------------------------------------------


def has_live_captions(lecture: Lecture) -> bool:
    """Captions not made from a recording were broadcast live. (A lecture with a recording
    never has live captions: uploading is refused once it does, and a lecture with one can no
    longer go live.)"""
    return not lecture.recording and lecture.segments.exists()


def recording_refusal(lecture: Lecture) -> str:
    """Why this lecture accepts no recording now ('' if it does); permission aside."""
    if lecture.status == Lecture.Status.LIVE:
        return _("The lecture is live: its captions come from the broadcast. End it first.")
    if lecture.status not in ACCEPTING:
        return _(
            "The lecture is being processed. Wait until it is ready or has failed, then try again."
        )
    if has_live_captions(lecture):
        return _(
            "This lecture already has live captions. A recording is never mixed with them or "
            "used to replace them; create a new lecture for the recording."
        )
    return ""


def can_retry(lecture: Lecture) -> bool:
    return lecture.status == Lecture.Status.FAILED and bool(lecture.recording)


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:,.1f}" if megabytes < 10 else f"{megabytes:,.0f}"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _formats() -> str:
    return _("WAV, MP3, M4A/AAC, WEBM/Opus, OGG, FLAC or MP4")  # ml.media.SUPPORTED_FORMATS_HINT


def limits_help() -> str:
    """The limits and formats, as the upload form and the API describe them."""
    return _(
        "Audio or video, at most %(megabytes)s MB and %(hours)s hours: %(formats)s. The file's "
        "content decides, not its name."
    ) % {
        "megabytes": _megabytes(settings.RECORDING_MAX_BYTES),
        "hours": f"{settings.RECORDING_MAX_SECONDS / 3600:g}",
        "formats": _formats(),
    }


# -- checking a file -----------------------------------------------------------------------------


def _looks_like(head: bytes) -> str:
    """What a file that is not media seems to be, for the error message ('' if unknown)."""
    signatures: list[tuple[bytes, str]] = [
        (b"%PDF", _("a PDF document")),
        (b"PK\x03\x04", _("a ZIP archive or an Office document")),
        (b"\x89PNG", _("a PNG image")),
        (b"\xff\xd8\xff", _("a JPEG image")),
        (b"GIF8", _("a GIF image")),
        (b"\xd0\xcf\x11\xe0", _("an Office document")),
        (b"\x7fELF", _("a program")),
        (b"MZ", _("a program")),
    ]
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return _("a web page")
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return _("a text file")
    return ""


@contextlib.contextmanager
def _local_copy(file: UploadedFile) -> Iterator[Path]:
    """A path to the upload's bytes: its temporary file when Django streamed it to disk,
    else a temporary copy (small uploads stay in memory)."""
    temporary_path = getattr(file, "temporary_file_path", None)
    if callable(temporary_path):
        yield Path(temporary_path())
        return
    with tempfile.NamedTemporaryFile(prefix="hearus-upload-") as copy:
        file.seek(0)
        for chunk in file.chunks():
            copy.write(chunk)
        copy.flush()
        file.seek(0)
        yield Path(copy.name)


def check_recording_file(file: UploadedFile | None) -> tuple[str, float | None]:
    """The upload's MIME type (by content) and declared duration, or a ValidationError that
    names the problem."""
    if file is None:
        raise ValidationError(_("Choose an audio or video file to upload."), code="required")
    check_recording_size(file.size or 0)
    with _local_copy(file) as path:
        return check_recording_path(path)


def check_recording_size(size: int) -> None:
    """A ValidationError unless a file of `size` bytes may be uploaded."""
    if size <= 0:
        raise ValidationError(
            _("The file is empty (0 bytes): the upload did not complete. Try again."),
            code="empty",
        )
    if size > settings.RECORDING_MAX_BYTES:
        raise ValidationError(
            _(
                "The file is %(size)s MB; recordings may be at most %(limit)s MB. Export it at a "
                "lower bit rate (audio alone is enough) or split it."
            )
            % {"size": _megabytes(size), "limit": _megabytes(settings.RECORDING_MAX_BYTES)},
            code="too_large",
        )


def check_recording_path(path: Path) -> tuple[str, float | None]:
    """The MIME type (by content) and declared duration of the recording in `path`, or a
    ValidationError that names the problem (the size is checked by the caller)."""
    media_type = sniff_media_type(path)
    if media_type is None:
        with path.open("rb") as handle:
            looks_like = _looks_like(handle.read(512))
        message = (
            _(
                "This file is not audio or video we can read (it looks like %(kind)s). "
                "Use %(formats)s."
            )
            % {"kind": looks_like, "formats": _formats()}
            if looks_like
            else _("This file is not audio or video we can read. Use %(formats)s.")
            % {"formats": _formats()}
        )
        raise ValidationError(message, code="not_media")
    has_audio, duration_s = probe_media(path)
    if not has_audio:
        raise ValidationError(
            _("This file has no sound track: choose a recording with sound."), code="no_audio"
        )
    if duration_s is not None and duration_s > settings.RECORDING_MAX_SECONDS:
        raise ValidationError(
            _("The recording is %(length)s long; at most %(limit)s is accepted. Split it.")
            % {"length": _clock(duration_s), "limit": _clock(settings.RECORDING_MAX_SECONDS)},
            code="too_long",
        )
    return media_type, duration_s


# -- services ------------------------------------------------------------------------------------


def _recording_field() -> FileField:
    field = Lecture._meta.get_field("recording")
    assert isinstance(field, FileField)
    return field


def _storage() -> Storage:
    return _recording_field().storage


def _check_accepts(lecture: Lecture) -> None:
    refusal = recording_refusal(lecture)
    if refusal:
        code = "live_captions" if has_live_captions(lecture) else "invalid_state"
        raise ValidationError(refusal, code=code)


def _queue_transcription(lecture: Lecture, name: str) -> Lecture:
    """In the caller's transaction: the lecture is processing `name`; the task runs after
    commit."""
    lecture = lifecycle.change_status(
        lecture.pk, Lecture.Status.PROCESSING, failure_reason="", recording=name
    )
    lecture_id = lecture.pk
    transaction.on_commit(lambda: progress_set(lecture_id, "queued", 0))
    after_commit(transcribe_recording, lecture_id, name)
    return lecture


def recording_upload(*, lecture: Lecture, by: User, file: UploadedFile | None) -> Lecture:
    """Store `file` as the lecture's recording and queue its transcription.

    Checks, in order: permission (PermissionDenied), the lecture's state and live captions,
    then the file (ValidationError with codes required, empty, too_large, not_media, no_audio,
    too_long, invalid_state, live_captions). The file is written to storage before the lecture
    changes and removed again if that fails; the previous recording, and the transcript and
    notes made from it, are replaced.
    """
    require_course_manager(by, lecture.course)
    _check_accepts(lecture)  # before reading the file: a refusal should not wait for it
    media_type, _duration = check_recording_file(file)
    assert file is not None
    field = _recording_field()
    filename = field.generate_filename(lecture, f"lecture-{lecture.pk}{EXTENSIONS[media_type]}")
    file.seek(0)
    stored = _storage().save(filename, file, max_length=field.max_length)
    return recording_attach(lecture=lecture, stored=stored)


def recording_filename(lecture: Lecture, media_type: str) -> str:
    """Where a recording of `media_type` for `lecture` is stored (before storage dedupes)."""
    return _recording_field().generate_filename(
        lecture, f"lecture-{lecture.pk}{EXTENSIONS[media_type]}"
    )


def recording_attach(*, lecture: Lecture, stored: str) -> Lecture:
    """Make the checked file `stored` (in media storage) the lecture's recording and queue its
    transcription, replacing any previous recording with its transcript and notes. The file
    is removed again if the lecture no longer accepts it."""
    try:
        with transaction.atomic():
            lecture = lifecycle.locked(lecture.pk)
            _check_accepts(lecture)
            previous = lecture.recording.name
            if previous:
                # Made from the previous recording: replaced together with it.
                TranscriptSegment.objects.filter(lecture=lecture).delete()
                Keyword.objects.filter(lecture=lecture).delete()
                Summary.objects.filter(lecture=lecture).delete()
                transaction.on_commit(lambda: _delete_file(previous))
            lecture = _queue_transcription(lecture, stored)
    except BaseException:
        _delete_file(stored)
        raise
    return lecture


@transaction.atomic
def recording_retry(*, lecture: Lecture, by: User) -> Lecture:
    """A failed lecture with a recording, again: its notes if only they failed (the transcript
    is there), else the whole transcription."""
    require_course_manager(by, lecture.course)
    lecture = lifecycle.locked(lecture.pk)
    if not can_retry(lecture):
        raise ValidationError(
            _("Only a lecture whose recording failed can be retried; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    if not _storage().exists(lecture.recording.name):
        raise ValidationError(
            _("The recording file is missing from storage: upload it again."),
            code="missing_file",
        )
    if lecture.segments.exists():  # only the notes failed: ending again queues them
        lecture = lifecycle.change_status(lecture.pk, Lecture.Status.ENDED, failure_reason="")
        lecture_id = lecture.pk
        transaction.on_commit(lambda: progress_set(lecture_id, "notes", 100))
        return lecture
    return _queue_transcription(lecture, lecture.recording.name)


def _delete_file(name: str) -> None:
    try:
        _storage().delete(name)
    except OSError:
        logger.warning("could not delete recording %s", name, exc_info=True)


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
def _readable_path(name: str) -> Iterator[Path]:
    """A local path to the stored recording (a temporary copy for remote or memory storage)."""
    storage = _storage()
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
        with _readable_path(name) as path:
            # The limit holds for the decoded audio, not only for what the header declared.
            audio = decode_media(path, max_seconds=settings.RECORDING_MAX_SECONDS)
    except MediaTooLongError as error:
        raise RecordingError(
            _("The recording is longer than %(limit)s, the most accepted. Split it.")
            % {"limit": _clock(settings.RECORDING_MAX_SECONDS)}
        ) from error
    total_s = audio.size / SAMPLE_RATE
    budget_s = TIME_BUDGET_BASE_S + TIME_BUDGET_PER_AUDIO_S * total_s

    def chunk_done(done_s: float, all_s: float) -> None:
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
        if done_s < all_s and time.monotonic() - started > budget_s:
            raise RecordingError(
                _(
                    "Transcribing took longer than its time budget (%(budget)s for %(length)s "
                    "of audio). The server may be busy: retry later."
                )
                % {"budget": _clock(budget_s), "length": _clock(total_s)}
            )

    progress_set(lecture_id, "transcribing", 0, done_s=0.0, total_s=total_s)
    cues = transcribe_in_chunks(
        get_engine(),
        audio,
        language=lecture.course.language,
        chunk_s=settings.RECORDING_CHUNK_S,
        on_chunk=chunk_done,
    )
    del audio
    progress_set(lecture_id, "storing", 100, done_s=total_s, total_s=total_s)
    return store_segments(lecture_id, name, cues)


def store_segments(lecture_id: int, recording_name: str, cues: list[Cue]) -> str:
    """The recording's captions as the lecture's transcript, all at once; the lecture ends and
    its notes are queued."""
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
        if lecture.recording.name != recording_name or lecture.status == Lecture.Status.LIVE:
            return "superseded"
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
