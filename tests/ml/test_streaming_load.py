"""The load policy: lag is known and reported, degrades instead of queueing, nothing is skipped.

A simulated clock drives these tests: audio "arrives" in real time on that clock, and the fake
engine (the scripted Whisper of test_streaming_policy) advances it by what a decode would cost
(a fixed cost plus a cost per second of audio; beam search costs more). So a slow machine is
simulated exactly and fast, without timing asserts on the real one. Real-model runs of the
policy are in bench/asr_quality.py --paced (numbers in docs/benchmarks.md).
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from hearus_testkit.scripted import Script, ScriptedEngine, energy_detector, words
from ml.asr import SAMPLE_RATE, FloatAudio, TranscribedSegment
from ml.capacity import CapacityMeter
from ml.caption_filters import has_repetition_loop
from ml.error_rates import normalize_text
from ml.streaming import FinalCaption, Mode, StreamingConfig, StreamingTranscriber

FRAME_S = 0.1


class Clock:
    """Simulated seconds; whoever listens (the audio feeder) hears of every advance."""

    def __init__(self) -> None:
        self.now = 0.0
        self.listeners: list[Callable[[float], None]] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for listener in self.listeners:
            listener(self.now)


class SlowEngine(ScriptedEngine):
    """Hears the script; each decode advances the clock by its simulated cost."""

    def __init__(
        self,
        script: Script,
        clock: Clock,
        *,
        base_s: float,
        per_audio_s: float = 0.0,
        beam_factor: float = 2.0,
        stall: tuple[int, float] | None = None,  # (call index, extra seconds)
    ) -> None:
        super().__init__(script)
        self.clock = clock
        self.base_s = base_s
        self.per_audio_s = per_audio_s
        self.beam_factor = beam_factor
        self.stall = stall
        self.beams: list[int] = []
        self.fast: list[bool] = []

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        cost = self.base_s + self.per_audio_s * len(audio) / SAMPLE_RATE
        if beam_size > 1:
            cost *= self.beam_factor
        if self.stall is not None and len(self.calls) == self.stall[0]:
            cost += self.stall[1]
        self.beams.append(beam_size)
        self.fast.append(fast)
        heard = super().transcribe(
            audio, language=language, prompt=prompt, beam_size=beam_size, fast=fast
        )
        self.clock.advance(cost)  # audio keeps arriving while the decode runs
        return heard


def made_up_word(seed: int) -> str:
    """A distinct pseudo-word per seed (sentences must not look alike: see `is_prompt_echo`)."""
    rng = random.Random(seed)
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)) + str(seed)


def lecture(sentences: int, *, words_per_sentence: int = 7) -> tuple[Script, FloatAudio]:
    """Sentences of numbered words, 0.4 s a word, with 0.3 s pauses (too short to count as the
    end of speech: captions must come from agreement or the load policy) and a 0.8 s pause
    after every fourth sentence."""
    script: Script = []
    pieces: list[FloatAudio] = []
    t = 0.0
    for index in range(sentences):
        tokens = [made_up_word(index * words_per_sentence + i) for i in range(words_per_sentence)]
        script.append(words(" ".join(tokens) + ".", start=t))
        duration = words_per_sentence * 0.4
        pause = 0.8 if index % 4 == 3 else 0.3
        pieces += [np.full(round(duration * SAMPLE_RATE), 0.1, np.float32)]
        pieces += [np.zeros(round(pause * SAMPLE_RATE), np.float32)]
        t += duration + pause
    pieces.append(np.zeros(2 * SAMPLE_RATE, np.float32))
    return script, np.concatenate(pieces)


@dataclass
class LiveRun:
    finals: list[tuple[float, FinalCaption]] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    partials: list[str] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [at - caption.end_ms / 1000 for at, caption in self.finals]

    @property
    def words(self) -> list[str]:
        return normalize_text(" ".join(caption.text for _, caption in self.finals)).split()


def live(transcriber: StreamingTranscriber, audio: FloatAudio, clock: Clock) -> LiveRun:
    """Audio arrives in 0.1 s frames at real-time pace on `clock` (also while a decode runs, as
    from the consumer's event loop); `process` runs whenever a frame is waiting, as the live
    consumer does; a decode advances the clock."""
    run = LiveRun()
    frame = round(FRAME_S * SAMPLE_RATE)
    sent = 0

    def arrive(now: float) -> None:
        nonlocal sent
        arrived = min(audio.size, round(now * SAMPLE_RATE) // frame * frame)
        if arrived > sent:
            transcriber.insert_audio(audio[sent:arrived])
            sent = arrived

    clock.listeners.append(arrive)
    while sent < audio.size:
        if round(clock.now * SAMPLE_RATE) // frame * frame <= sent:
            clock.now = (sent + frame) / SAMPLE_RATE  # idle until the next frame
        arrive(clock.now)
        run.lags.append(transcriber.lag_s)  # what a metric read now would say
        update = transcriber.process()
        run.finals += [(clock.now, caption) for caption in update.finals]
        run.modes.append(update.mode)
        run.partials.append(update.partial)
    update = transcriber.finish()
    run.finals += [(clock.now, caption) for caption in update.finals]
    clock.listeners.remove(arrive)
    return run


def make(
    script: Script,
    *,
    base_s: float,
    per_audio_s: float = 0.0,
    stall: tuple[int, float] | None = None,
    meter: CapacityMeter | None = None,
    **config: float,
) -> tuple[StreamingTranscriber, SlowEngine, Clock]:
    clock = Clock()
    engine = SlowEngine(script, clock, base_s=base_s, per_audio_s=per_audio_s, stall=stall)
    transcriber = StreamingTranscriber(
        engine,
        language="en",
        config=StreamingConfig(**config),  # type: ignore[arg-type]
        speech_detector=energy_detector,
        clock=clock,
        meter=meter,
    )
    engine.transcriber = transcriber
    return transcriber, engine, clock


def expected_words(script: Script) -> list[str]:
    return normalize_text(" ".join(word for segment in script for _, _, word in segment)).split()


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


# A decode costing 1.5 s + 0.1 s per buffered second: Whisper base int8 on a loaded two-core
# machine (about three times its quiet cost).
LOADED_BASE_S, LOADED_PER_AUDIO_S = 1.5, 0.1


def test_without_the_policy_a_slow_engine_falls_ever_further_behind() -> None:
    # The reference point: the same engine with degradation switched off queues.
    script, audio = lecture(24)
    transcriber, _, clock = make(
        script,
        base_s=LOADED_BASE_S,
        per_audio_s=LOADED_PER_AUDIO_S,
        behind_lag_s=1e9,
        behind_decode_s=1e9,
        catch_up_lag_s=1e9,
        accurate_beam_size=1,
    )
    run = live(transcriber, audio, clock)
    assert p95(run.latencies) > 5.0


def test_a_slow_engine_degrades_and_finals_stay_on_time() -> None:
    script, audio = lecture(24)
    transcriber, engine, clock = make(script, base_s=LOADED_BASE_S, per_audio_s=LOADED_PER_AUDIO_S)
    run = live(transcriber, audio, clock)

    assert p95(run.latencies) <= 5.0, run.latencies
    assert max(run.latencies) <= 10.0, run.latencies
    assert Mode.BEHIND in run.modes  # it did degrade
    assert 1.0 < max(run.lags) < 5.0  # the lag is visible, and bounded
    assert set(engine.beams) == {1}  # and never spent time on beam search
    assert any(engine.fast)  # behind, it asked for cheaper decodes
    # No speech region skipped, no word lost or doubled: degraded captions are still complete.
    assert run.words == expected_words(script)
    assert not any(has_repetition_loop(partial) for partial in run.partials)


def test_lag_is_reported_and_clears_after_a_stall() -> None:
    # One decode takes 8 s (another lecture's burst, a GC pause): the lag jumps, the policy
    # catches up without re-decoding, and the lag falls back under the notice threshold.
    script, audio = lecture(24)
    transcriber, _, clock = make(script, base_s=0.3, stall=(10, 8.0))
    run = live(transcriber, audio, clock)

    peak = int(np.argmax(run.lags))
    assert run.lags[peak] > 5.0
    assert Mode.CATCH_UP in run.modes
    recovered = [i for i in range(peak, len(run.lags)) if run.lags[i] <= 1.5]
    assert recovered, "the lag never cleared"
    assert run.lags[-1] <= 1.5
    assert abs(transcriber.stats.max_lag_s - max(run.lags)) <= 0.2  # sampled at other instants
    assert run.words == expected_words(script)


def test_a_long_backlog_is_decoded_in_bounded_stretches_and_nothing_is_skipped() -> None:
    # A 25 s stall: the backlog is longer than the buffer cap. It is worked off in decodes of
    # at most `behind_max_buffer_s` (a decode's cost stays bounded), and every word arrives.
    script, audio = lecture(24)
    transcriber, engine, clock = make(script, base_s=0.3, stall=(6, 25.0))
    run = live(transcriber, audio, clock)
    after_stall = engine.calls[7:]
    assert after_stall
    assert max(call.duration_s for call in after_stall) <= 8.0 + 0.1
    assert Mode.CATCH_UP in run.modes
    assert run.lags[-1] <= 1.5
    assert run.words == expected_words(script)


def test_a_fast_engine_spends_its_headroom_on_beam_search() -> None:
    script, audio = lecture(12)
    transcriber, engine, clock = make(script, base_s=0.15)
    run = live(transcriber, audio, clock)
    assert engine.beams.count(5) > 0.8 * len(engine.beams)
    assert transcriber.stats.decodes_by_mode[Mode.ACCURATE] == engine.beams.count(5)
    assert not any(engine.fast)  # on time: the full encoder window, never the cheaper one
    assert max(run.lags) <= 2.0
    assert run.words == expected_words(script)


def test_accurate_mode_backs_off_when_beam_search_is_too_slow() -> None:
    # Greedy fits (0.3 s a decode) but beam search costs four times as much: after trying it,
    # the transcriber returns to greedy instead of falling behind.
    script, audio = lecture(12)
    clock = Clock()
    engine = SlowEngine(script, clock, base_s=0.2, beam_factor=4.0)
    transcriber = StreamingTranscriber(
        engine, language="en", speech_detector=energy_detector, clock=clock, meter=None
    )
    engine.transcriber = transcriber
    run = live(transcriber, audio, clock)
    assert 0 < engine.beams.count(5) < len(engine.beams) / 3
    assert p95(run.latencies) <= 3.0
    assert run.words == expected_words(script)


class LoopingEngine(SlowEngine):
    """Hears a loop and a stock line over the first seconds of every decode."""

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        heard = super().transcribe(
            audio, language=language, prompt=prompt, beam_size=beam_size, fast=fast
        )
        offset = self.transcriber.buffer_start_s if self.transcriber else 0.0
        if offset > 6.0:
            return heard
        loop = ScriptedEngine([words("영상에서 " * 10 + "이 영상은", start=offset)])
        loop.transcriber = self.transcriber
        looped = loop.transcribe(audio, language=language, prompt=prompt)
        return [
            TranscribedSegment(s.start, s.end, s.text, s.words, 0.3, -0.8, 1.1) for s in looped
        ] + heard


def test_a_looping_engine_never_reaches_a_caption_and_the_drops_are_counted() -> None:
    script, audio = lecture(6)
    clock = Clock()
    engine = LoopingEngine(script, clock, base_s=0.2)
    transcriber = StreamingTranscriber(
        engine, language="ko", speech_detector=energy_detector, clock=clock, meter=None
    )
    engine.transcriber = transcriber
    run = live(transcriber, audio, clock)
    text = " ".join(caption.text for _, caption in run.finals)
    assert text.count("영상에서") <= 1
    assert "이 영상은" not in text
    assert not any(has_repetition_loop(caption.text) for _, caption in run.finals)
    stats = transcriber.stats
    assert stats.dropped_words > 0
    assert stats.dropped_by_reason["repetition"] > 0
    assert stats.dropped_words == sum(stats.dropped_by_reason.values())


def test_decodes_are_recorded_for_the_capacity_estimate() -> None:
    meter = CapacityMeter(min_live_calls=5)
    script, audio = lecture(8)
    transcriber, engine, clock = make(script, base_s=0.25, meter=meter, accurate_beam_size=1)
    live(transcriber, audio, clock)
    estimate = meter.estimate()
    assert estimate is not None and estimate.measured
    assert estimate.live_calls == len(engine.calls)
    assert estimate.call_cost_s == pytest.approx(0.25)
    # 0.25 s per decode, about one decode per second of speech: three lectures fit in 0.8.
    assert 2 <= estimate.lectures <= 3
