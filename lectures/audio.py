"""Where a lecture's audio is kept: one folder per lecture under `LECTURE_AUDIO_ROOT`.

While a lecture is live its audio arrives in journal segments (`captions.journal`); when it ends
they are joined into one Ogg Opus file on the lecture's time line (`kept_audio_path`: second 0 is
the moment the lecture started, as for every caption's `start_ms`), which is what the archive
plays. An uploaded recording's audio is kept in the same file. The folder is a plain directory
(the media volume: EFS in production, shared by the live, web and worker pods) because a journal
is appended to, which Django's Storage API cannot do.
"""

import shutil
from pathlib import Path

from django.conf import settings

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


def delete_audio(lecture_id: int) -> None:
    """Forget everything kept of the lecture's audio: the file and any journal."""
    shutil.rmtree(audio_dir(lecture_id), ignore_errors=True)
