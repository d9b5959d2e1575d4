"""The figures of one configuration (`ConfigResult`), computed from a `Measurement`."""

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bench.caption_latency.clients import BroadcastLog, ViewerLog
from bench.caption_latency.fixtures import LecturePlan
from bench.caption_latency.measure import Measurement
from bench.caption_latency.server import Server, log_problems
from bench.speech_coverage import Coverage, speech_coverage
from hearus_testkit import ROOT
from ml.audio import pcm16_to_float32
from ml.error_rates import character_error_rate, deleted_words, word_error_rate


@dataclass
class ConfigResult:
    setup: str
    instructors: int
    viewers: int
    audio_s: float
    finals_per_lecture: float
    receipts: int
    p50_s: float | None
    p95_s: float | None
    stored_p50_s: float | None  # created_at of the segment instead of arrival at a viewer
    stored_p95_s: float | None
    delivery_p50_s: float | None  # from created_at to arrival at a viewer
    delivery_p95_s: float | None
    max_s: float | None
    min_s: float | None
    first_words_p50_s: float | None
    first_words_p95_s: float | None
    first_partial_p50_s: float | None
    partials_per_viewer: float
    lost: int
    duplicated: int
    out_of_order_viewers: int
    viewers_closed_early: int
    rtf_mean: float | None
    server_cpu_pct: float | None
    client_cpu_pct: float
    # Every other process during the run (other people's tests, PostgreSQL, Redis), % of a core
    other_cpu_pct: float
    waited_for_quiet_s: float
    max_send_lag_ms: float
    connect_s: float
    settle_s: float
    settled: bool
    streamed_wer: float
    streamed_cer: float
    rotations: list[int]
    transcripts: list[str]
    broadcast_errors: list[str]
    server_log_problems: dict[str, int]
    server_log: str
    # Since --cpu-hog and --audio (older saved runs have none of these):
    hogs: int = 0  # busy processes beside the server, each burning one core
    hog_cpu_pct: float = 0.0
    load_before: float | None = None  # 1-minute load average (uptime) before the hogs started
    load_after: float | None = None  # ... and when the measurement ended
    server_cpu_per_audio_s: float | None = None  # server CPU s per second of audio streamed
    words_lost: int | None = None  # reference words no stored caption carries (deletions)
    speech_regions: int = 0  # VAD regions in the audio streamed, over all lectures
    uncovered_speech: list[tuple[float, float]] = field(default_factory=list)  # stream s
    dropped_words: dict[str, int] | None = None  # the server's filters, by reason
    max_delay_notice_s: int | None = None  # the largest "captions delayed by N s" a viewer saw
    delay_cleared: bool = True  # every viewer that saw a notice also saw it cleared

    @property
    def name(self) -> str:
        hogs = f" + {self.hogs} hog core{'s' if self.hogs > 1 else ''}" if self.hogs else ""
        return f"N={self.instructors} x M={self.viewers}{hogs}"


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None


@dataclass
class _Receipts:
    """What the viewers received, over every viewer of a configuration."""

    latencies: list[float] = field(default_factory=list)  # arrival - end of the audio
    first_words: list[float] = field(default_factory=list)  # first display - start of the audio
    first_partials: list[float] = field(default_factory=list)  # per viewer, from the first word
    deliveries: list[float] = field(default_factory=list)  # arrival - stored
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0

    def add_viewer(
        self,
        log: ViewerLog,
        plan: LecturePlan,
        broadcast: BroadcastLog,
        stored_at: dict[int, float],
    ) -> None:
        self._count_seqs(log, set(stored_at))
        for receipt in log.receipts:
            audio_end = broadcast.t0 + (receipt.end_ms - broadcast.offset_ms) / 1000
            audio_start = broadcast.t0 + (receipt.start_ms - broadcast.offset_ms) / 1000
            self.latencies.append(receipt.arrival - audio_end)
            self.first_words.append(receipt.first_display - audio_start)
            if receipt.seq in stored_at:  # stored -> on this viewer's screen
                arrival_wall = broadcast.t0_wall + (receipt.arrival - broadcast.t0)
                self.deliveries.append(arrival_wall - stored_at[receipt.seq])
        if log.first_partial is not None:
            self.first_partials.append(
                log.first_partial - (broadcast.t0 + plan.audio.first_onset_s)
            )

    def _count_seqs(self, log: ViewerLog, stored_seqs: set[int]) -> None:
        """Lost (stored, never received), duplicated and out-of-order finals of one viewer."""
        received = [receipt.seq for receipt in log.receipts] + log.snapshot_seqs
        counts = Counter(received)
        self.lost += len(stored_seqs - counts.keys())
        self.duplicated += sum(count - 1 for count in counts.values() if count > 1)
        seqs = [receipt.seq for receipt in log.receipts]
        self.out_of_order += any(b <= a for a, b in itertools.pairwise(seqs))


def _receipts(plans: Sequence[LecturePlan], measurement: Measurement) -> _Receipts:
    receipts = _Receipts()
    for log in measurement.viewers:
        plan = plans[log.lecture_index]
        stored_at = {
            segment.seq: segment.created_at for segment in measurement.stored[plan.lecture_id]
        }
        receipts.add_viewer(log, plan, measurement.broadcasts[log.lecture_index], stored_at)
    return receipts


def _latencies_at_store(plans: Sequence[LecturePlan], measurement: Measurement) -> list[float]:
    """Per stored final: when the server stored it - the wall time its audio ended."""
    broadcasts = measurement.broadcasts
    return [
        segment.created_at
        - (broadcasts[index].t0_wall + (segment.end_ms - broadcasts[index].offset_ms) / 1000)
        for index, plan in enumerate(plans)
        for segment in measurement.stored[plan.lecture_id]
    ]


def _error_rates(references: Sequence[str], transcripts: Sequence[str]) -> tuple[float, float]:
    """Mean WER and mean CER of the stored transcripts against what was spoken (NaN when what
    was spoken is not known: `--audio` without `--reference`)."""
    if not all(references):
        return float("nan"), float("nan")
    pairs = list(zip(references, transcripts, strict=True))
    wer = float(np.mean([word_error_rate(r, t) for r, t in pairs]))
    cer = float(np.mean([character_error_rate(r, t) for r, t in pairs]))
    return wer, cer


def _coverage(plans: Sequence[LecturePlan], measurement: Measurement) -> Coverage:
    """Speech regions of every lecture's audio that none of its stored finals covers."""
    regions = 0
    uncovered: list[tuple[float, float]] = []
    for index, plan in enumerate(plans):
        offset_ms = measurement.broadcasts[index].offset_ms
        coverage = speech_coverage(
            pcm16_to_float32(plan.audio.pcm),
            [
                ((segment.start_ms - offset_ms) / 1000, (segment.end_ms - offset_ms) / 1000)
                for segment in measurement.stored[plan.lecture_id]
            ],
        )
        regions += coverage.speech_regions
        uncovered += coverage.uncovered
    return Coverage(speech_regions=regions, uncovered=uncovered)


def _delay_notices(viewers: Sequence[ViewerLog]) -> tuple[int | None, bool]:
    """(largest delay announced to any viewer, whether each viewer's last notice cleared it)."""
    notices = [log.delay_notices for log in viewers if log.delay_notices]
    largest = max((max(seen) for seen in notices), default=None)
    return largest, all(seen[-1] == 0 for seen in notices)


def _cpu_pcts(measurement: Measurement) -> tuple[float | None, float, float]:
    """(server, client, every other process) CPU over the window, in % of one core."""
    window = measurement.window_s
    server_s = measurement.server_cpu_s
    server = 100 * server_s / window if server_s is not None else None
    client = 100 * measurement.client_cpu_s / window
    others_s = (
        measurement.system_cpu_s
        - measurement.client_cpu_s
        - (server_s or 0.0)
        - measurement.hog_cpu_s
    )
    return server, client, 100 * others_s / window


def summarize(
    setup: str,
    plans: Sequence[LecturePlan],
    viewers: int,
    measurement: Measurement,
    server: Server,
    waited_for_quiet_s: float,
    *,
    hogs: int = 0,
    load_before: float | None = None,
    load_after: float | None = None,
) -> ConfigResult:
    broadcasts = measurement.broadcasts
    received = _receipts(plans, measurement)
    latencies = received.latencies
    at_store = _latencies_at_store(plans, measurement)
    transcripts = [
        " ".join(segment.text for segment in measurement.stored[plan.lecture_id]) for plan in plans
    ]
    wer, cer = _error_rates([plan.audio.reference for plan in plans], transcripts)
    rtfs = [log.real_time_factor for log in broadcasts if log.real_time_factor is not None]
    server_cpu, client_cpu, other_cpu = _cpu_pcts(measurement)
    audio_s = sum(plan.audio.duration_s for plan in plans)
    known = [(plan.audio.reference, text) for plan, text in zip(plans, transcripts, strict=True)]
    coverage = _coverage(plans, measurement)
    max_delay, delay_cleared = _delay_notices(measurement.viewers)
    return ConfigResult(
        setup=setup,
        instructors=len(plans),
        viewers=viewers,
        audio_s=round(plans[0].audio.duration_s, 2),
        finals_per_lecture=float(np.mean([len(measurement.stored[p.lecture_id]) for p in plans])),
        receipts=len(latencies),
        p50_s=_percentile(latencies, 50),
        p95_s=_percentile(latencies, 95),
        stored_p50_s=_percentile(at_store, 50),
        stored_p95_s=_percentile(at_store, 95),
        delivery_p50_s=_percentile(received.deliveries, 50),
        delivery_p95_s=_percentile(received.deliveries, 95),
        max_s=max(latencies, default=None),
        min_s=min(latencies, default=None),
        first_words_p50_s=_percentile(received.first_words, 50),
        first_words_p95_s=_percentile(received.first_words, 95),
        first_partial_p50_s=_percentile(received.first_partials, 50),
        partials_per_viewer=float(np.mean([log.partials for log in measurement.viewers] or [0])),
        lost=received.lost,
        duplicated=received.duplicated,
        out_of_order_viewers=received.out_of_order,
        viewers_closed_early=sum(bool(log.closed) for log in measurement.viewers),
        rtf_mean=float(np.mean(rtfs)) if rtfs else None,
        server_cpu_pct=server_cpu,
        client_cpu_pct=client_cpu,
        other_cpu_pct=other_cpu,
        waited_for_quiet_s=waited_for_quiet_s,
        max_send_lag_ms=1000 * max(log.max_send_lag_s for log in broadcasts),
        connect_s=measurement.connect_s,
        settle_s=measurement.settle_s,
        settled=measurement.settled,
        streamed_wer=wer,
        streamed_cer=cer,
        rotations=[plan.audio.rotation for plan in plans],
        transcripts=transcripts,
        broadcast_errors=[log.error for log in broadcasts if log.error],
        server_log_problems=log_problems(server.log_path),
        server_log=str(server.log_path.relative_to(ROOT)) if server.log_path else "",
        hogs=hogs,
        hog_cpu_pct=100 * measurement.hog_cpu_s / measurement.window_s,
        load_before=load_before,
        load_after=load_after,
        server_cpu_per_audio_s=(
            measurement.server_cpu_s / audio_s if measurement.server_cpu_s is not None else None
        ),
        words_lost=(
            sum(deleted_words(reference, text) for reference, text in known)
            if all(reference for reference, _ in known)
            else None
        ),
        speech_regions=coverage.speech_regions,
        uncovered_speech=coverage.uncovered,
        dropped_words=measurement.dropped_words,
        max_delay_notice_s=max_delay,
        delay_cleared=delay_cleared,
    )
