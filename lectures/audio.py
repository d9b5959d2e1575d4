"""Where a lecture's audio is kept: one folder per lecture under `LECTURE_AUDIO_ROOT`.

While a lecture is live its audio arrives in journal segments (`captions.journal`); when it ends
they are joined into one Ogg Opus file on the lecture's time line (`kept_audio_path`: second 0 is
the moment the lecture started, as for every caption's `start_ms`), which is what the archive
plays. An uploaded recording's audio is kept in the same file. The folder is a plain directory
(the media volume: EFS in production, shared by the live, web and worker pods) because a journal
is appended to, which Django's Storage API cannot do.
"""

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from ml.media import encode_speech

KEPT_AUDIO_NAME = "lecture.ogg"


def audio_root() -> Path:
    return Path(str(settings.LECTURE_AUDIO_ROOT))


def audio_dir(lecture_id: int) -> Path:
    return audio_root() / str(int(lecture_id))


def kept_audio_path(lecture_id: int) -> Path:
    """The lecture's audio file (it may not exist yet: `kept_audio` says)."""
    return audio_dir(lecture_id) / KEPT_AUDIO_NAME


def kept_audio(lecture_id: int) -> Path | None:
    path = kept_audio_path(lecture_id)
    return path if path.is_file() else None


def kept_audio_url(lecture_id: int) -> str | None:
    """Where the archive plays the lecture's kept audio (classroom's `lecture_audio`), or None
    while none is kept. Access is the lecture's own: the URL answers only those who see it."""
    if kept_audio(lecture_id) is None:
        return None
    return reverse("lecture_audio", args=[int(lecture_id)])


def delete_audio(lecture_id: int) -> None:
    """Forget everything kept of the lecture's audio: the file and any journal."""
    shutil.rmtree(audio_dir(lecture_id), ignore_errors=True)


def encode_pending_audio(lecture_id: int, pcm16_chunks: Iterable[bytes]) -> tuple[Path, float]:
    """Encode 16 kHz PCM16 (second 0 = the lecture's time line 0) into a new file beside the
    kept one, not yet played: `keep_pending_audio` puts it in place. Returns (its path, seconds).

    In the same folder, so that putting it in place is one atomic rename: a listener never gets
    half a file, and a writer that dies leaves the kept audio as it was."""
    folder = audio_dir(lecture_id)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".pending-", suffix=".ogg", dir=folder)
    os.close(handle)
    pending = Path(name)
    try:
        seconds = encode_speech(pcm16_chunks, pending)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    return pending, seconds


def keep_pending_audio(lecture_id: int, pending: Path) -> Path:
    """Make `pending` (from `encode_pending_audio`) the lecture's kept audio, replacing any."""
    path = kept_audio_path(lecture_id)
    pending.chmod(0o644)  # mkstemp's 0600 would hide it from a web process of another user
    os.replace(pending, path)
    return path
