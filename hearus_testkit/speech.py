"""Speech made on the spot by espeak-ng, as float samples, WAV files or PCM16 frames."""

import hashlib
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hearus_testkit.tools import require_tool
from ml.asr import SAMPLE_RATE, FloatAudio
from ml.audio import read_wav


@dataclass(frozen=True)
class Speech:
    text: str
    language: str
    audio: FloatAudio

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def synthesize(
    text: str, voice: str, directory: Path, *, words_per_minute: int | None = None
) -> FloatAudio:
    """`text` spoken by espeak-ng, saved as a 16 kHz mono WAV in `directory` and read back."""
    return read_wav(synthesize_wav(text, voice, directory, words_per_minute=words_per_minute))


def synthesize_wav(
    text: str, voice: str, directory: Path, *, words_per_minute: int | None = None
) -> Path:
    """`text` spoken by espeak-ng (at its default 175 words a minute unless given), as a 16 kHz
    mono PCM16 WAV file in `directory`.

    Raises `MissingTool` without espeak-ng."""
    espeak = require_tool("espeak-ng", "apt-get install -y espeak-ng; needed for speech")
    from faster_whisper.audio import decode_audio  # type: ignore[import-untyped]

    speed = [] if words_per_minute is None else ["-s", str(words_per_minute)]
    key = f"{voice}:{text}" if words_per_minute is None else f"{voice}:{words_per_minute}:{text}"
    name = hashlib.sha1(key.encode()).hexdigest()[:12]
    raw = directory / f"{name}-espeak.wav"
    subprocess.run(
        [espeak, "-v", voice, *speed, "-w", str(raw), text], check=True, capture_output=True
    )
    # espeak writes 22.05 kHz; PyAV (a faster-whisper dependency) resamples to 16 kHz mono.
    samples = np.asarray(decode_audio(str(raw), sampling_rate=SAMPLE_RATE), dtype=np.float32)
    path = directory / f"{name}-16k.wav"
    write_wav(path, samples)
    return path


def spoken_pcm16(text: str, voice: str, directory: Path, *, then_silence_s: float) -> bytes:
    """`text` spoken by espeak-ng, then `then_silence_s` of silence, as a broadcaster sends it
    (little-endian PCM16, 16 kHz mono)."""
    return pcm16(np.concatenate([synthesize(text, voice, directory), silence(then_silence_s)]))


def write_wav(path: Path, audio: FloatAudio) -> None:
    """`audio` as a 16 kHz mono PCM16 WAV file."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm16(audio))


def pcm16(audio: FloatAudio) -> bytes:
    """Float samples as the broadcast protocol's little-endian PCM16 bytes."""
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> FloatAudio:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)
