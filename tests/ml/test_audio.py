"""PCM16 frames and WAV files to float32 samples."""

import wave
from pathlib import Path

import numpy as np
import pytest

from ml.audio import pcm16_to_float32, read_wav


def test_pcm16_little_endian_to_unit_floats() -> None:
    data = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    samples = pcm16_to_float32(data)
    assert samples.dtype == np.float32
    assert samples.tolist() == pytest.approx([0.0, 0.5, -1.0, 32767 / 32768])


def test_odd_byte_count_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        pcm16_to_float32(b"\x00\x01\x02")


def _write(path: Path, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.zeros(rate * channels // 10, dtype="<i2").tobytes())


def test_read_wav_accepts_16k_mono_only(tmp_path: Path) -> None:
    _write(tmp_path / "ok.wav", 16000, 1)
    assert len(read_wav(tmp_path / "ok.wav")) == 1600
    _write(tmp_path / "cd.wav", 44100, 2)
    with pytest.raises(ValueError, match="16000 Hz mono"):
        read_wav(tmp_path / "cd.wav")
