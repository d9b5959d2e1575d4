"""What the stream is compared with: whole-file transcription of the same audio, and what one
live ASR call costs on this machine (`--compare-offline`)."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.caption_latency.lecture import LectureAudio
from hearus_testkit import MODEL_CACHE_DIR
from ml.asr import SAMPLE_RATE, WhisperEngine
from ml.audio import pcm16_to_float32
from ml.error_rates import character_error_rate, word_error_rate
from ml.whisper_model import resolve_whisper_model


@dataclass(frozen=True)
class OfflineResult:
    rotation: int
    wer: float
    cer: float
    seconds: float
    text: str


def transcribe_offline(audios: Sequence[LectureAudio]) -> dict[int, OfflineResult]:
    """Whole-file transcription of each lecture audio (one per rotation) by plain faster-whisper
    (greedy, VAD)."""
    engine = WhisperEngine.load(resolve_whisper_model("", MODEL_CACHE_DIR))
    results: dict[int, OfflineResult] = {}
    for audio in {audio.rotation: audio for audio in audios}.values():
        rotation = audio.rotation
        started = time.perf_counter()
        segments, _info = engine.model.transcribe(
            pcm16_to_float32(audio.pcm),
            language=audio.language,
            beam_size=1,
            temperature=0.0,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        text = " ".join(segment.text.strip() for segment in segments)
        seconds = time.perf_counter() - started
        results[rotation] = OfflineResult(
            rotation=rotation,
            wer=word_error_rate(audio.reference, text),
            cer=character_error_rate(audio.reference, text),
            seconds=seconds,
            text=text,
        )
    return results


def asr_call_costs(lecture: LectureAudio) -> dict[float, float]:
    """Seconds one live ASR call (`WhisperEngine.transcribe`, as the stream calls it) takes on
    this machine for audio windows of a few lengths: median of 3 calls each. The engine is the
    server's (`captions.engine.get_engine`: same model and settings, encoder window included)."""
    from captions.engine import get_engine  # Django is set up by then

    engine = get_engine()
    audio = pcm16_to_float32(lecture.pcm)
    costs: dict[float, float] = {}
    for seconds in (1.0, 3.0, 6.0, 12.0):
        window = audio[: round(seconds * SAMPLE_RATE)]
        times = []
        for _ in range(3):
            started = time.perf_counter()
            engine.transcribe(window, language=lecture.language, prompt=None)
            times.append(time.perf_counter() - started)
        costs[seconds] = float(np.median(times))
    return costs
