"""Capacity: lectures per process from measured decode costs."""

import pytest

from ml.asr import WhisperEngine
from ml.capacity import CapacityMeter, lectures_for, probe_call_cost


def test_lectures_fit_under_the_target_rtf() -> None:
    assert lectures_for(0.25) == 3  # 0.75 <= 0.8
    assert lectures_for(0.4) == 2
    assert lectures_for(0.8) == 1
    assert lectures_for(0.81) == 0  # not even one lecture in real time: refuse them all
    assert lectures_for(0.2, target_rtf=0.5) == 2


def test_no_estimate_before_a_probe_or_a_decode() -> None:
    assert CapacityMeter().estimate() is None


def test_the_probe_gives_an_estimate_until_live_decodes_replace_it() -> None:
    meter = CapacityMeter(min_live_calls=3)
    meter.record_probe(0.4)
    estimate = meter.estimate()
    assert estimate is not None and not estimate.measured
    assert estimate.call_cost_s == pytest.approx(0.4)
    assert estimate.lecture_rtf == pytest.approx(0.4)  # one decode per audio second
    assert estimate.lectures == 2

    for _ in range(3):  # live: 0.3 s decodes, each bringing in 1.5 s of new audio
        meter.record(seconds=0.3, audio_s=1.5)
    estimate = meter.estimate()
    assert estimate is not None and estimate.measured and estimate.live_calls == 3
    assert estimate.lecture_rtf == pytest.approx(0.2)
    assert estimate.lectures == 4


def test_probe_times_the_real_engine(engine: WhisperEngine) -> None:
    cost = probe_call_cost(engine, seconds=4.0, repeats=1)
    assert 0.0 < cost < 30.0
