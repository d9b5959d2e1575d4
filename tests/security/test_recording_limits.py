"""The duration limit holds for decoded audio, whatever a file's header says, and decoding stops
as soon as it is passed; damaged files fail with a reason a person can act on (issue 15,
item 8)."""

import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from pytest_django import Settings

from classroom import recording_transcription
from classroom.recording_transcription import RecordingError
from classroom.recording_transcription import recording_storage as _storage
from lectures.models import Lecture
from ml.media import MediaError, MediaTooLongError, decode_media
from tests.conftest import World


def write_wav(path: Path, seconds: float, *, declared_bytes: int | None = None) -> Path:
    samples = (np.sin(np.arange(int(16000 * seconds)) / 5) * 8000).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(samples)
    if declared_bytes is not None:  # a header that lies about the length of the data
        data = bytearray(path.read_bytes())
        data[4:8] = struct.pack("<I", 36 + declared_bytes)
        data[40:44] = struct.pack("<I", declared_bytes)
        path.write_bytes(bytes(data))
    return path


def test_decoding_stops_once_past_the_limit(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", 12)
    with pytest.raises(MediaTooLongError) as refused:
        decode_media(path, max_seconds=3)
    assert refused.value.max_seconds == 3
    assert decode_media(path, max_seconds=20).size == 12 * 16000


def test_a_header_claiming_37_hours_over_1_second_gives_that_second(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "lying.wav", 1, declared_bytes=37 * 3600 * 32000)
    audio = decode_media(path, max_seconds=4 * 3600)
    assert audio.size == pytest.approx(16000, rel=0.01)


def test_a_file_with_no_decodable_audio_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(write_wav(tmp_path / "whole.wav", 1).read_bytes()[:30])  # header cut short
    with pytest.raises(MediaError) as refused:
        decode_media(path)
    assert "cut.wav" in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_audio_longer_than_the_limit_whatever_was_checked(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.RECORDING_MAX_SECONDS = 2
    with write_wav(tmp_path / "l.wav", 6).open("rb") as file:
        name = _storage().save("recordings/long.wav", file)
    lecture = Lecture.objects.create(
        course=world.course,
        title="Long",
        scheduled_at=world.lecture.scheduled_at,
        status=Lecture.Status.PROCESSING,
        recording=name,
    )
    with pytest.raises(RecordingError) as refused:
        recording_transcription.transcribe(lecture.pk)
    assert "0:00:02" in str(refused.value)
