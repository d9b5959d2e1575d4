"""Test speech made on the spot by espeak-ng, and small helpers shared by the ML tests."""

import hashlib
import os
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ml.asr import SAMPLE_RATE, FloatAudio, TranscribedSegment, WhisperEngine
from ml.audio import read_wav

ENGLISH_TEXT = (
    "The lecture today covers the basic ideas of machine learning. "
    "We will start with linear regression, and then discuss how a model learns from data. "
    "Please ask questions at any time."
)
KOREAN_TEXT = (
    "오늘 수업에서는 인공지능의 기본 개념을 배웁니다. "
    "먼저 선형 회귀를 살펴보고 모델이 데이터에서 어떻게 학습하는지 이야기하겠습니다."
)


@dataclass(frozen=True)
class Speech:
    text: str
    language: str
    audio: FloatAudio

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def synthesize(text: str, voice: str, directory: Path) -> FloatAudio:
    """`text` spoken by espeak-ng, saved as a 16 kHz mono WAV in `directory` and read back."""
    return read_wav(synthesize_wav(text, voice, directory))


def synthesize_wav(text: str, voice: str, directory: Path) -> Path:
    """`text` spoken by espeak-ng, as a 16 kHz mono PCM16 WAV file in `directory`."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        if os.environ.get("HEARUS_REQUIRE_TOOLS") == "1":
            pytest.fail("espeak-ng is missing and HEARUS_REQUIRE_TOOLS=1")
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng); needed for speech")
    from faster_whisper.audio import decode_audio  # type: ignore[import-untyped]

    name = hashlib.sha1(f"{voice}:{text}".encode()).hexdigest()[:12]
    raw = directory / f"{name}-espeak.wav"
    subprocess.run([espeak, "-v", voice, "-w", str(raw), text], check=True, capture_output=True)
    # espeak writes 22.05 kHz; PyAV (a faster-whisper dependency) resamples to 16 kHz mono.
    samples = np.asarray(decode_audio(str(raw), sampling_rate=SAMPLE_RATE), dtype=np.float32)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    path = directory / f"{name}-16k.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm.tobytes())
    return path


def pcm16(audio: FloatAudio) -> bytes:
    """Float samples as the broadcast protocol's little-endian PCM16 bytes."""
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> FloatAudio:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


class CountingEngine:
    """Wraps a real engine and counts its calls (to prove VAD kept silence away from it)."""

    def __init__(self, inner: WhisperEngine) -> None:
        self.inner = inner
        self.calls = 0

    def transcribe(
        self, audio: FloatAudio, *, language: str, prompt: str | None
    ) -> list[TranscribedSegment]:
        self.calls += 1
        return self.inner.transcribe(audio, language=language, prompt=prompt)
