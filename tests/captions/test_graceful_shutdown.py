"""Stopping a live process (SIGTERM on a pod) keeps a broadcast's last captions, and the live
caption path records its metrics on the way."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from prometheus_client import REGISTRY

from captions.drain import SERVICE_RESTART, drain_broadcasts
from captions.models import TranscriptSegment
from hearus_testkit.daphne import free_port
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from tests.captions.conftest import Socket, broadcast_path
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent.parent
START = {"type": "start", "sample_rate": 16000, "format": "pcm_s16le", "language": "en"}
FRAME_BYTES = 3200


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


def stored_text(lecture: Lecture) -> str:
    return " ".join(
        TranscriptSegment.objects.filter(lecture=lecture)
        .order_by("seq")
        .values_list("text", flat=True)
    )


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


@pytest.mark.django_db(transaction=True)
async def test_a_drained_broadcast_is_told_to_reconnect_and_its_last_words_are_stored(
    world: World, sockets: list[Socket], tmp_path: Path
) -> None:
    speech = spoken_pcm16(ENGLISH_TEXT, "en-us", tmp_path, then_silence_s=0.5)
    latencies, rtfs = (
        sample("hearus_caption_latency_seconds_count"),
        sample("hearus_asr_real_time_factor_count"),
    )
    live_before = sample("hearus_live_lectures")
    await database_sync_to_async(make_live)(world.lecture)
    broadcaster = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(broadcaster)
    assert (await broadcaster.receive())["type"] == "ready"
    await broadcaster.send_json(START)
    await broadcaster.receive_until("started")
    assert sample("hearus_live_lectures") == live_before + 1
    for offset in range(0, 16000 * 2 * 4, FRAME_BYTES):  # the first 4 s, then no pause
        await broadcaster.send_bytes(speech[offset : offset + FRAME_BYTES])
    while not (await broadcaster.receive_until("partial"))["text"]:
        pass  # heard, not final yet: what a plain SIGTERM would lose

    assert await drain_broadcasts(timeout_s=120) == 1

    assert await broadcaster.closed_with() == SERVICE_RESTART  # the browser reconnects
    texts = await database_sync_to_async(stored_text)(world.lecture)
    assert "machine learning" in texts.lower()
    assert sample("hearus_live_lectures") == live_before
    assert sample("hearus_caption_latency_seconds_count") > latencies
    assert sample("hearus_asr_real_time_factor_count") > rtfs


async def test_draining_a_process_without_broadcasts_is_immediate() -> None:
    assert await drain_broadcasts(timeout_s=1) == 0


def test_serve_stops_on_sigterm_after_draining(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test"}
    command = [sys.executable, "-m", "hearus_site.serve", "-b", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "hearus_site.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "drained 0 broadcast(s)" in log.read_text()
