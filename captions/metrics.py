"""The live caption path's Prometheus metrics: lectures being transcribed, viewers connected,
caption latency and the recogniser's real-time factor. Served with the rest at `/metrics`
(`hearus_site.metrics`); multiprocess-safe like them."""

import time
from bisect import bisect_left
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

LIVE_LECTURES = Gauge(
    "hearus_live_lectures",
    "Lectures being transcribed right now (an open broadcast session with its ASR).",
    multiprocess_mode="livesum",
)
LIVE_CAPACITY = Gauge(
    "hearus_live_capacity_lectures",
    "Live lectures this process takes before refusing a new broadcast with 4503 (LIVE_CAPACITY, "
    "or measured from its decode cost).",
    multiprocess_mode="livesum",
)
JOURNAL_FAILURES = Counter(
    "hearus_audio_journal_failures",
    "Broadcast connections whose audio could no longer be written to the lecture's journal "
    "(the captions go on; the broadcaster is no longer acknowledged).",
)
RECOVERED_CAPTIONS = Counter(
    "hearus_recovered_captions",
    "Captions made from journal audio that a dead session had received but not captioned.",
)
CONNECTED_VIEWERS = Gauge(
    "hearus_connected_viewers",
    "Viewers connected to a lecture's caption socket.",
    multiprocess_mode="livesum",
)
CAPTION_LATENCY = Histogram(
    "hearus_caption_latency_seconds",
    "From the moment the last audio of a final caption reached the server to the caption being "
    "stored and published to viewers.",
    buckets=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0),
)
CAPTION_LAG = Histogram(
    "hearus_caption_lag_seconds",
    "Speech received but not yet captioned, seconds, one observation per live transcription "
    "step (viewers are told above DELAY_NOTICE_S).",
    buckets=(0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0),
)
DROPPED_WORDS = Counter(
    "hearus_caption_dropped_words",
    "Words the recogniser produced that were not shown: hallucinations, loops, prompt echoes "
    "(ml.caption_filters), by reason.",
    ["reason"],
)
ASR_REAL_TIME_FACTOR = Histogram(
    "hearus_asr_real_time_factor",
    "Seconds of inference per second of new audio, one observation per live transcription step "
    "(above 1: the lecture falls behind).",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0),
)


class AudioArrivals:
    """When each stretch of a broadcast's audio reached the server, to time its captions.

    Stream time (ms since the broadcast's first frame) -> monotonic arrival time of the frame
    that carried it. Captions come in stream order, so entries before a caption are dropped.
    """

    BYTES_PER_MS = 32  # 16 kHz, 16-bit mono

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._received_ms = 0.0
        self._ends: list[float] = []  # stream ms where each frame ended
        self._times: list[float] = []  # monotonic time it arrived

    def received(self, pcm16: bytes) -> None:
        self._received_ms += len(pcm16) / self.BYTES_PER_MS
        self._ends.append(self._received_ms)
        self._times.append(self._clock())

    def latency_s(self, stream_end_ms: float) -> float | None:
        """Seconds since the audio up to `stream_end_ms` arrived; None if it never did."""
        index = bisect_left(self._ends, stream_end_ms)
        if index >= len(self._ends):
            index = len(self._ends) - 1
        if index < 0:
            return None
        arrived = self._times[index]
        del self._ends[:index]
        del self._times[:index]
        return max(0.0, self._clock() - arrived)


def observe_caption_latency(seconds: float | None) -> None:
    if seconds is not None:
        CAPTION_LATENCY.observe(seconds)


class RealTimeFactor:
    """Turns a transcriber's running totals into one observation per transcription step."""

    def __init__(self) -> None:
        self._audio_s = 0.0
        self._inference_s = 0.0

    def update(self, *, audio_s: float, inference_s: float) -> None:
        new_audio = audio_s - self._audio_s
        new_inference = inference_s - self._inference_s
        self._audio_s, self._inference_s = audio_s, inference_s
        if new_audio > 0 and new_inference > 0:
            ASR_REAL_TIME_FACTOR.observe(new_inference / new_audio)
