"""Audio helpers for the ASR path: everything inside `ml` is 16 kHz mono float32 in [-1, 1]."""

import wave
from pathlib import Path

import numpy as np

from ml.asr import SAMPLE_RATE, FloatAudio


def pcm16_to_float32(data: bytes) -> FloatAudio:
    """Little-endian signed 16-bit PCM (what the broadcaster sends) to float32 samples."""
    if len(data) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def read_wav(path: Path) -> FloatAudio:
    """A 16 kHz mono 16-bit WAV file as float32 samples (resample elsewhere, e.g. with sox)."""
    with wave.open(str(path), "rb") as reader:
        if reader.getframerate() != SAMPLE_RATE or reader.getnchannels() != 1:
            raise ValueError(f"{path}: need {SAMPLE_RATE} Hz mono")
        if reader.getsampwidth() != 2:
            raise ValueError(f"{path}: need 16-bit samples")
        return pcm16_to_float32(reader.readframes(reader.getnframes()))
