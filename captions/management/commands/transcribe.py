"""`manage.py transcribe FILE`: captions for a recording, printed to stdout.

    python manage.py transcribe lecture.m4a --language ko --format vtt > lecture.vtt
    python manage.py transcribe lecture.mp3 --language en --stream   # what live viewers get

The work is done by `ml.media` (decoding), `ml.offline` (transcription) and `ml.subtitles`
(formats); the model is the server's (`captions.engine.get_engine`, WHISPER_MODEL setting).
"""

import contextlib
import io
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from captions.engine import get_engine
from lectures.models import Course
from ml.asr import SAMPLE_RATE, FloatAudio, WhisperEngine
from ml.media import MediaError, decode_media
from ml.offline import transcribe_streaming, transcribe_whole
from ml.subtitles import Cue, CueLike, to_json, to_srt, to_text, to_vtt
from ml.whisper_model import ModelAssemblyError, ModelNotFoundError

FORMATS: dict[str, Callable[[Iterable[CueLike]], str]] = {
    "txt": to_text,
    "vtt": to_vtt,
    "srt": to_srt,
    "json": to_json,
}


class Command(BaseCommand):
    help = (
        "Transcribe an audio or video file (WAV, MP3, M4A, WEBM, MP4...) with the server's "
        "Whisper model and print the captions to stdout; a summary goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the recording to transcribe")
        parser.add_argument(
            "--language",
            default=Course.Language.KOREAN.value,
            choices=Course.Language.values,
            help="the spoken language (forced, never detected; default: %(default)s)",
        )
        parser.add_argument(
            "--format",
            default="txt",
            choices=sorted(FORMATS),
            help="output format (default: %(default)s)",
        )
        parser.add_argument(
            "--stream",
            action="store_true",
            help="feed the file through the live caption path and print its finals",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        language: str = options["language"]
        if not path.exists():
            raise CommandError(f"{path}: no such file.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")

        started = time.perf_counter()
        try:
            audio = decode_media(path)
        except MediaError as error:
            raise CommandError(str(error)) from error
        duration_s = audio.size / SAMPLE_RATE

        try:
            engine = get_engine()
        except (ModelNotFoundError, ModelAssemblyError) as error:
            raise CommandError(f"The speech model is not available: {error}") from error

        transcribing = time.perf_counter()
        with _quiet_faster_whisper(options["verbosity"]):
            cues = self._transcribe(engine, audio, language=language, stream=options["stream"])
        finished = time.perf_counter()

        if not options.get("stdout"):  # the real stdout: make sure Hangul can be written
            _utf8(sys.stdout)
        self.stdout.write(FORMATS[options["format"]](cues), ending="")

        asr_s = finished - transcribing
        rtf = asr_s / duration_s if duration_s else 0.0
        mode = "streamed" if options["stream"] else "whole file"
        self.stderr.write(
            f"{path.name}: {duration_s:.1f} s of audio, {len(cues)} captions ({mode}, {language}); "
            f"decoding and model {transcribing - started:.1f} s, transcription {asr_s:.1f} s, "
            f"real-time factor {rtf:.2f}",
            style_func=lambda text: text,
        )

    @staticmethod
    def _transcribe(
        engine: WhisperEngine, audio: FloatAudio, *, language: str, stream: bool
    ) -> list[Cue]:
        if stream:
            return transcribe_streaming(engine, audio, language=language)
        return transcribe_whole(engine, audio, language=language)


@contextlib.contextmanager
def _quiet_faster_whisper(verbosity: int) -> Iterator[None]:
    """faster-whisper logs every window at INFO: keep stderr to the summary unless -v 2."""
    logger = logging.getLogger("faster_whisper")
    level = logger.level
    if verbosity < 2:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _utf8(stream: Any) -> None:
    if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower().replace("-", "") != "utf8":
        stream.reconfigure(encoding="utf-8")
