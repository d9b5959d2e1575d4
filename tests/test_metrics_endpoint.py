"""/metrics: django-prometheus's request metrics and ours, for in-cluster scrapers only, and
correct when several processes (a Celery prefork worker) record into one folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from captions import metrics as live_metrics
from hearus_site import metrics
from hearus_site.celery import app
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent

OUR_METRICS = [
    "hearus_live_lectures",
    "hearus_connected_viewers",
    "hearus_caption_latency_seconds",
    "hearus_asr_real_time_factor",
    "hearus_celery_task_duration_seconds",
    "hearus_celery_task_failures",
]


def _succeeds() -> str:
    return "ok"


def _fails() -> None:
    raise RuntimeError("boom")


succeeds = app.task(name="tests.metrics.succeeds")(_succeeds)
fails = app.task(name="tests.metrics.fails")(_fails)


def scrape(client: Client) -> dict[str, float]:
    """Every sample of /metrics as 'name{label="value",...}' -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def sample_names(samples: dict[str, float]) -> set[str]:
    return {key.split("{", 1)[0] for key in samples}


def test_metrics_serves_django_request_metrics_and_ours(client: Client) -> None:
    client.get("/healthz")
    names = sample_names(scrape(client))
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in names
    assert "django_http_requests_total_by_view_transport_method_total" in names
    for name in ["hearus_live_lectures", "hearus_connected_viewers"]:
        assert name in names
    for name in ["hearus_caption_latency_seconds", "hearus_asr_real_time_factor"]:
        assert f"{name}_bucket" in names
        assert f"{name}_count" in names


def test_metrics_are_refused_to_requests_through_the_load_balancer(client: Client) -> None:
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 404


def test_celery_task_durations_and_failures_are_counted(client: Client) -> None:
    succeeds.apply()
    fails.apply(throw=False)
    samples = scrape(client)
    ok = 'hearus_celery_task_duration_seconds_count{state="SUCCESS",task="tests.metrics.succeeds"}'
    failed = 'hearus_celery_task_duration_seconds_count{state="FAILURE",task="tests.metrics.fails"}'
    assert samples[ok] >= 1
    assert samples[failed] >= 1
    assert samples['hearus_celery_task_failures_total{task="tests.metrics.fails"}'] >= 1
    assert 'hearus_celery_task_failures_total{task="tests.metrics.succeeds"}' not in samples


@pytest.mark.django_db(transaction=True)
async def test_a_connected_viewer_is_counted_until_they_leave(world: World) -> None:
    def viewers() -> float:
        return REGISTRY.get_sample_value("hearus_connected_viewers") or 0.0

    before = viewers()
    socket = await Socket(viewer_path(world.lecture.pk), world.student).open()
    assert (await socket.receive())["type"] == "snapshot"
    assert viewers() == before + 1
    await socket.close()
    assert viewers() == before


@pytest.mark.django_db(transaction=True)
async def test_a_refused_viewer_is_not_counted(world: World) -> None:
    before = REGISTRY.get_sample_value("hearus_connected_viewers") or 0.0
    socket = await Socket(viewer_path(world.lecture.pk), world.other_student).open()
    await socket.closed_with()
    await socket.close()
    assert (REGISTRY.get_sample_value("hearus_connected_viewers") or 0.0) == before


RECORD_IN_ANOTHER_PROCESS = """
import os, sys
from captions import metrics as live_metrics
from hearus_site import metrics
print(os.getpid())
live_metrics.CONNECTED_VIEWERS.inc(int(sys.argv[1]))
live_metrics.CAPTION_LATENCY.observe(1.2)
metrics.TASK_FAILURES.labels(task="classroom.process_lecture").inc()
"""


def record_in_another_process(folder: Path, viewers: int) -> int:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(folder)}
    process = subprocess.run(
        [sys.executable, "-c", RECORD_IN_ANOTHER_PROCESS, str(viewers)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(process.stdout)


def test_multiprocess_mode_adds_up_every_process(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_in_another_process(tmp_path, viewers=2)
    record_in_another_process(tmp_path, viewers=3)
    assert len(list(tmp_path.glob("gauge_livesum_*.db"))) == 2  # one file per process
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
    samples = scrape(client)  # /metrics now reads the folder, as in a worker or a pod
    assert samples["hearus_connected_viewers{}"] == 5
    assert samples["hearus_caption_latency_seconds_count{}"] == 2
    assert samples['hearus_caption_latency_seconds_bucket{le="1.5"}'] == 2
    assert samples['hearus_celery_task_failures_total{task="classroom.process_lecture"}'] == 2


def test_a_dead_process_stops_counting_in_live_gauges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = record_in_another_process(tmp_path, viewers=2)
    record_in_another_process(tmp_path, viewers=3)
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
    metrics._worker_process_shutdown(pid=first)  # the Celery signal of a prefork child's exit
    registry = metrics.multiprocess_registry()
    assert registry is not None
    assert registry.get_sample_value("hearus_connected_viewers") == 3
    # Counters and histograms keep what the dead process recorded.
    assert registry.get_sample_value("hearus_caption_latency_seconds_count") == 2


def test_the_audio_clock_times_a_caption_from_its_last_audio() -> None:
    now = [100.0]
    arrivals = live_metrics.AudioArrivals(clock=lambda: now[0])
    for _ in range(10):  # ten 100 ms frames, one every 100 ms
        arrivals.received(b"\x00" * 3200)
        now[0] += 0.1
    now[0] = 101.5
    # A caption ending at 450 ms: its last audio came with the fifth frame (t = 100.4).
    assert arrivals.latency_s(450) == pytest.approx(1.1)
    assert arrivals.latency_s(1000) == pytest.approx(0.6)
