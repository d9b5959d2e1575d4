"""Resumable recording uploads in parts, so an upload of any size stays small in memory.

A single multipart POST holds the whole file in the web process (Daphne reads a request's body
completely, and in memory, before the application sees it). Here the client says how large the
file is, then sends it in parts of at most RECORDING_PART_BYTES, each one a request of its own,
at the offset the server reports; after a dropped connection it asks for that offset and goes
on from there. Parts are written straight to media storage (never to /tmp); the last part
joins them, streaming, into the recording, which is checked and transcribed like any upload
(`classroom.recordings`). An upload's state lives in storage too, beside its parts
(`recording-uploads/<id>/`), so any web process can take the next part.

Services (the API in `classroom.recording_api` calls them):
`upload_start(lecture, by, size)`, `upload_status(lecture, by, upload_id)`,
`upload_part(lecture, by, upload_id, offset, body, length)`.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from classroom import recording_transcription, recordings
from lectures.models import Lecture
from lectures.selectors import require_course_manager
from ml.media import sniff_media_type

ROOT = "recording-uploads"
_ID = re.compile(r"[0-9a-f]{32}")
COPY_BYTES = 1024 * 1024
# An upload not finished within a day is abandoned: its parts go when the next upload starts.
UPLOAD_TTL_S = 24 * 3600


@dataclass
class Upload:
    id: str
    lecture_id: int
    user_id: int
    size: int
    offset: int
    lecture: Lecture | None = None  # set once the last part made it the lecture's recording

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "size": self.size,
            "offset": self.offset,
            "part_bytes": settings.RECORDING_PART_BYTES,
            "complete": self.offset == self.size,
        }


def _storage() -> Storage:
    return recording_transcription.recording_storage()


def _folder(upload_id: str) -> str:
    return f"{ROOT}/{upload_id}"


def _manifest(upload_id: str) -> str:
    return f"{_folder(upload_id)}/manifest.json"


def _part(upload_id: str, offset: int) -> str:
    return f"{_folder(upload_id)}/part-{offset:013d}"


def _parts(upload_id: str) -> list[tuple[int, str]]:
    """(offset, name) of the stored parts, in order."""
    _folders, files = _storage().listdir(_folder(upload_id))
    found = [
        (int(name.removeprefix("part-")), f"{_folder(upload_id)}/{name}")
        for name in files
        if re.fullmatch(r"part-\d{13}", name)
    ]
    return sorted(found)


def _not_found() -> ValidationError:
    return ValidationError(
        _("No such upload: it finished, expired or belongs to someone else. Start again."),
        code="not_found",
    )


def _load(lecture: Lecture, by: User, upload_id: str) -> Upload:
    storage = _storage()
    if not _ID.fullmatch(upload_id) or not storage.exists(_manifest(upload_id)):
        raise _not_found()
    with storage.open(_manifest(upload_id), "rb") as handle:
        manifest = json.loads(handle.read())
    if manifest["lecture"] != lecture.pk or manifest["user"] != by.pk:
        raise _not_found()
    offset = sum(storage.size(name) for _offset, name in _parts(upload_id))
    return Upload(upload_id, lecture.pk, by.pk, int(manifest["size"]), offset)


def upload_start(*, lecture: Lecture, by: User, size: int) -> Upload:
    """A new upload of `size` bytes for the lecture: permission, the lecture's state and the
    size are checked now, before any byte is sent (413 `too_large` for a file over
    RECORDING_MAX_BYTES)."""
    require_course_manager(by, lecture.course)
    recordings._check_accepts(lecture)
    recordings.check_recording_size(size)
    uploads_expire()
    upload_id = secrets.token_hex(16)
    manifest = {"lecture": lecture.pk, "user": by.pk, "size": size, "created": time.time()}
    _storage().save(_manifest(upload_id), File(io.BytesIO(json.dumps(manifest).encode())))
    return Upload(upload_id, lecture.pk, by.pk, size, 0)


def uploads_expire(max_age_s: float = UPLOAD_TTL_S) -> int:
    """Delete the parts of uploads started more than `max_age_s` ago (abandoned); how many."""
    storage = _storage()
    try:
        folders, _files = storage.listdir(ROOT)
    except FileNotFoundError:
        return 0
    expired = 0
    for upload_id in folders:
        if not _ID.fullmatch(upload_id) or not storage.exists(_manifest(upload_id)):
            continue
        with storage.open(_manifest(upload_id), "rb") as handle:
            created = float(json.loads(handle.read()).get("created", 0))
        if time.time() - created > max_age_s:
            for _offset, name in _parts(upload_id):
                storage.delete(name)
            storage.delete(_manifest(upload_id))
            expired += 1
    return expired


def upload_status(*, lecture: Lecture, by: User, upload_id: str) -> Upload:
    """Where an upload stands: the offset to send next (resuming after a drop)."""
    return _load(lecture, by, upload_id)


class _Limited(io.RawIOBase):
    """At most `length` bytes of `body`, read in pieces."""

    def __init__(self, body: BinaryIO, length: int) -> None:
        self.body, self.left = body, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            return 0
        data = self.body.read(min(len(buffer), self.left, COPY_BYTES))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def upload_part(
    *, lecture: Lecture, by: User, upload_id: str, offset: int, body: BinaryIO, length: int
) -> Upload:
    """Store `length` bytes read from `body` at `offset`, which must be the upload's current
    offset (else ValidationError `offset_mismatch`, with nothing stored: ask for the status and
    continue from there). The last part turns the upload into the lecture's recording."""
    with transaction.atomic():
        Lecture.objects.select_for_update().filter(pk=lecture.pk).first()  # one part at a time
        upload = _load(lecture, by, upload_id)
        if offset != upload.offset:
            raise ValidationError(
                _("This part starts at byte %(offset)s; the upload is at byte %(expected)s.")
                % {"offset": offset, "expected": upload.offset},
                code="offset_mismatch",
            )
        if length <= 0 or length > settings.RECORDING_PART_BYTES:
            raise ValidationError(
                _("A part is 1 to %(limit)s bytes.") % {"limit": settings.RECORDING_PART_BYTES},
                code="part_size",
            )
        if offset + length > upload.size:
            raise ValidationError(
                _("This part goes past the size given when the upload started (%(size)s bytes).")
                % {"size": upload.size},
                code="too_large",
            )
        part = File(io.BufferedReader(_Limited(body, length), COPY_BYTES))
        name = _storage().save(_part(upload_id, offset), part)
        written = _storage().size(name)
        if written != length or name != _part(upload_id, offset):
            _storage().delete(name)
            raise ValidationError(
                _("The part arrived incomplete (%(written)s of %(length)s bytes): send it again.")
                % {"written": written, "length": length},
                code="incomplete_part",
            )
        upload.offset += length
    if upload.offset == upload.size:
        upload.lecture = _complete(lecture, upload)
    return upload


class _Joined(io.RawIOBase):
    """The upload's parts read one after the other, as one file."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self.current: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            if self.current is None:
                if not self.names:
                    return 0
                self.current = _storage().open(self.names.pop(0), "rb")  # type: ignore[assignment]
            assert self.current is not None
            data = self.current.read(min(len(buffer), COPY_BYTES))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.current.close()
            self.current = None


def _complete(lecture: Lecture, upload: Upload) -> Lecture:
    """Join the parts into the recording (streaming, storage to storage), check it, attach it
    to the lecture; the parts and the upload's state go either way."""
    parts = [name for _offset, name in _parts(upload.id)]
    storage = _storage()
    try:
        with recording_transcription.readable_path(parts[0]) as first_part:
            media_type = sniff_media_type(first_part)
        if media_type is None:
            media_type = "audio/wav"  # only a name: the check below refuses non-media
        joined = File(io.BufferedReader(_Joined(parts), COPY_BYTES))
        joined.size = upload.size
        field = recording_transcription.recording_field()
        stored = storage.save(
            recordings.recording_filename(lecture, media_type), joined, field.max_length
        )
    finally:
        for name in [*parts, _manifest(upload.id)]:
            storage.delete(name)
    try:
        with recording_transcription.readable_path(stored) as path:
            recordings.check_recording_path(path)
        fresh = Lecture.objects.select_related("course").get(pk=lecture.pk)
        recordings._check_accepts(fresh)
    except BaseException:
        storage.delete(stored)
        raise
    return recordings.recording_attach(lecture=fresh, stored=stored)
