"""Was any speech skipped? Speech regions (Silero VAD on the input) that no final caption covers.

Shared by `bench/asr_quality.py --paced` and `python -m bench.caption_latency`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

from ml.asr import SAMPLE_RATE, FloatAudio

# Whisper's word times and the VAD's region edges differ by a few hundred ms.
MARGIN_S = 0.3
# Regions split at pauses this long (the VAD's default, 2 s, makes a whole lecture whose
# speakers pause 0.3-0.8 s between sentences one region, and a skipped sentence invisible).
MIN_SILENCE_MS = 250


@dataclass(frozen=True)
class Coverage:
    speech_regions: int
    uncovered: list[tuple[float, float]]  # (start s, end s) of each region no caption overlaps


def speech_coverage(audio: FloatAudio, captions_s: Sequence[tuple[float, float]]) -> Coverage:
    """`captions_s`: (start s, end s) of each final, on the same clock as `audio`."""
    regions = [
        (region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE)
        for region in get_speech_timestamps(
            audio, VadOptions(min_silence_duration_ms=MIN_SILENCE_MS), sampling_rate=SAMPLE_RATE
        )
    ]
    uncovered = [
        (round(start, 2), round(end, 2))
        for start, end in regions
        if not any(
            caption_start < end + MARGIN_S and caption_end > start - MARGIN_S
            for caption_start, caption_end in captions_s
        )
    ]
    return Coverage(speech_regions=len(regions), uncovered=uncovered)
