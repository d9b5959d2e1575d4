"""How many live lectures one process can carry, from what its decodes measurably cost.

Every live decode in the process runs on its one ASR thread (`ml.asr.run_in_asr_thread`), so the
thread's time is the resource. A lecture needs `lecture_rtf` seconds of it per second of audio:
the decode cost times the decodes the streaming policy makes per audio second. The process
carries `lectures` such lectures while their sum stays under `target_rtf` (0.8 leaves room for
the decodes at sentence ends, partial fan-out and noise):

    lectures = floor(target_rtf / lecture_rtf)

Every `StreamingTranscriber` records its decodes in `PROCESS_METER` (unless given another meter).
Before any lecture has run, `probe_call_cost` times a few decodes of a stand-in buffer, so the
estimate exists from start-up:

    meter = ml.capacity.PROCESS_METER
    meter.record_probe(probe_call_cost(engine))      # once, at start-up (about 2-4 s of CPU)
    estimate = meter.estimate()                       # any time: cheap, thread-safe
    estimate.lectures, estimate.lecture_rtf, estimate.call_cost_s

`estimate()` uses the live decodes of the last `window` calls once there are at least
`min_live_calls`: their summed cost per second of new audio is the lecture RTF actually
measured (under the load the machine really has). Before that it assumes
`DEFAULT_DECODES_PER_AUDIO_S` decodes per audio second (one per second of new speech) at the
probe's cost.
"""

import math
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ml.asr import SAMPLE_RATE, SpeechRecognizer

DEFAULT_TARGET_RTF = 0.8
# One decode per `StreamingConfig.min_chunk_s` (1 s) of speech (the decode at a pause takes the
# place of one; silence costs none): the live RTF measured at N=1 (0.72-0.80 with 0.5-0.8 s
# decodes, docs/benchmarks.md) is about one decode's cost per second.
DEFAULT_DECODES_PER_AUDIO_S = 1.0


@dataclass(frozen=True)
class Capacity:
    lectures: int  # live lectures this process carries at `target_rtf` (0: not even one)
    lecture_rtf: float  # ASR-thread seconds one lecture needs per second of audio
    call_cost_s: float  # seconds per decode (median of the recent ones, or the probe's)
    target_rtf: float
    measured: bool  # from live decodes (True) or from the start-up probe (False)
    live_calls: int  # live decodes in the window


@dataclass(frozen=True)
class _Call:
    seconds: float
    audio_s: float  # new audio this decode covered


def lectures_for(lecture_rtf: float, target_rtf: float = DEFAULT_TARGET_RTF) -> int:
    """Lectures whose summed RTF stays at or under `target_rtf`."""
    if lecture_rtf <= 0:
        return 0
    return max(0, math.floor(target_rtf / lecture_rtf + 1e-9))


class CapacityMeter:
    """Thread-safe record of the process's decode costs; see the module docstring."""

    def __init__(self, *, window: int = 200, min_live_calls: int = 20) -> None:
        self._calls: deque[_Call] = deque(maxlen=window)
        self._probe_s: float | None = None
        self._min_live_calls = min_live_calls
        self._lock = threading.Lock()

    def record(self, *, seconds: float, audio_s: float) -> None:
        """One live decode: its wall time, and the new audio (seconds) it brought in."""
        with self._lock:
            self._calls.append(_Call(max(0.0, seconds), max(0.0, audio_s)))

    def record_probe(self, call_cost_s: float) -> None:
        with self._lock:
            self._probe_s = max(0.0, call_cost_s)

    def estimate(
        self,
        *,
        target_rtf: float = DEFAULT_TARGET_RTF,
        decodes_per_audio_s: float = DEFAULT_DECODES_PER_AUDIO_S,
    ) -> Capacity | None:
        """The capacity now, or None before any probe or live decode."""
        with self._lock:
            calls = list(self._calls)
            probe = self._probe_s
        audio_s = sum(call.audio_s for call in calls)
        if len(calls) >= self._min_live_calls and audio_s > 0:
            rtf = sum(call.seconds for call in calls) / audio_s
            cost = statistics.median(call.seconds for call in calls)
            return Capacity(lectures_for(rtf, target_rtf), rtf, cost, target_rtf, True, len(calls))
        cost_source = [call.seconds for call in calls] or ([probe] if probe is not None else [])
        if not cost_source:
            return None
        cost = statistics.median(cost_source)
        rtf = cost * decodes_per_audio_s
        return Capacity(lectures_for(rtf, target_rtf), rtf, cost, target_rtf, False, len(calls))


PROCESS_METER = CapacityMeter()


def probe_call_cost(
    engine: SpeechRecognizer, *, language: str = "en", seconds: float = 8.0, repeats: int = 3
) -> float:
    """Median wall seconds of `repeats` decodes of a `seconds`-long stand-in buffer (a voiced,
    syllable-paced harmonic signal: the encoder's cost is that of real audio of the length;
    the decoder's is at the low end, and live decodes replace the probe once they exist)."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)  # about four syllables a second
    audio = (0.1 * envelope * voice).astype(np.float32)
    engine.transcribe(audio[:SAMPLE_RATE], language=language, prompt=None)  # warm-up
    costs = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        engine.transcribe(audio, language=language, prompt=None)
        costs.append(time.perf_counter() - started)
    return statistics.median(costs)
