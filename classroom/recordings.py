"""Uploaded recordings: a lecture's captions made from an audio or video file afterwards.

Services (`recording_upload`, `recording_retry`, `recording_attach` for uploads in parts,
`classroom.uploads`) check, store and queue the Celery task `transcribe_recording`
(`classroom.recording_transcription`, queue `media`).

Which lectures accept a recording (`recording_refusal` says why not):
- only the course's instructors and staff upload;
- the lecture is scheduled (never broadcast), ended, ready or failed; never while it is live
  or being processed;
- it has no live captions. Captions broadcast live are never mixed with, or replaced by, a
  recording's. A lecture whose transcript came from an earlier recording may get a new one:
  that transcript, its keywords and summary are replaced.
- the file is at most `RECORDING_MAX_BYTES`, audio or video judged by its content (the name and
  extension play no part), with a sound track, at most `RECORDING_MAX_SECONDS` long.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from captions.models import TranscriptSegment
from classroom.jobs import after_commit
from classroom.recording_transcription import (
    clock,
    progress_set,
    recording_field,
    recording_storage,
    transcribe_recording,
)
from lectures import lifecycle
from lectures.models import Keyword, Lecture, Summary
from lectures.selectors import require_course_manager
from ml.media import (
    EXTENSIONS,
    probe_media,
    sniff_media_type,
)

logger = logging.getLogger(__name__)

# States a recording may be uploaded in (see the module's docstring).
ACCEPTING = (
    Lecture.Status.SCHEDULED,
    Lecture.Status.ENDED,
    Lecture.Status.READY,
    Lecture.Status.FAILED,
)


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
            % {"length": clock(duration_s), "limit": clock(settings.RECORDING_MAX_SECONDS)},
            code="too_long",
        )
    return media_type, duration_s


# -- services ------------------------------------------------------------------------------------


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
    field = recording_field()
    filename = field.generate_filename(lecture, f"lecture-{lecture.pk}{EXTENSIONS[media_type]}")
    file.seek(0)
    stored = recording_storage().save(filename, file, max_length=field.max_length)
    return recording_attach(lecture=lecture, stored=stored)


def recording_filename(lecture: Lecture, media_type: str) -> str:
    """Where a recording of `media_type` for `lecture` is stored (before storage dedupes)."""
    return recording_field().generate_filename(
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
    if not recording_storage().exists(lecture.recording.name):
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
        recording_storage().delete(name)
    except OSError:
        logger.warning("could not delete recording %s", name, exc_info=True)
