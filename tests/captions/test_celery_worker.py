"""A real Celery worker on Redis: a lecture ends -> the worker computes its notes -> the open
viewer pages are told. Runs where REDIS_URL is set (CI's PostgreSQL + Redis pass)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from pytest_django import Settings

from captions.models import TranscriptSegment
from hearus_site.celery import app
from hearus_testkit import ROOT
from hearus_testkit.texts import LECTURE
from lectures.models import Keyword, Lecture, Summary
from lectures.services import lecture_end
from tests import daphne_server
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set"),
]


@pytest.fixture
def worker(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`celery worker -Q nlp,media` in its own process, on the test database; this test process
    queues tasks on Redis instead of running them itself."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "DATABASE_URL": daphne_server.test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "hearus_site", "worker", "-Q", "nlp,media"]
    options = ["--concurrency", "1", "--without-gossip", "--without-mingle", "-l", "INFO"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *options],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def live_lecture(world: World) -> Lecture:
    lecture = world.lecture
    lecture.segments.all().delete()
    lecture.status = Lecture.Status.LIVE
    lecture.save()
    for i, line in enumerate(LECTURE, 1):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=i, start_ms=i * 4000, end_ms=i * 4000 + 3500, text=line
        )
    return lecture


async def test_the_worker_computes_the_notes_and_tells_open_viewer_pages(
    world: World, worker: Path, sockets: list[Socket]
) -> None:
    lecture = await database_sync_to_async(live_lecture)(world)
    viewer = await Socket(viewer_path(lecture.pk, after=len(LECTURE)), world.student).open()
    sockets.append(viewer)
    await viewer.receive()  # the snapshot

    await database_sync_to_async(lecture_end)(lecture=lecture, by=world.instructor)

    statuses: list[str] = []
    keywords = None
    try:
        while not statuses or statuses[-1] not in ("ready", "failed"):
            message = await viewer.receive(timeout=180)
            if message["type"] == "status":
                statuses.append(message["status"])
            elif message["type"] == "keywords":
                keywords = message["keywords"]
    except AssertionError:
        pytest.fail(f"no notes in time; worker log:\n{worker.read_text()[-4000:]}")
    assert statuses == ["ended", "processing", "ready"], worker.read_text()[-4000:]
    assert keywords and "신경망" in [k["term"] for k in keywords]

    await lecture.arefresh_from_db()
    assert lecture.status == Lecture.Status.READY
    assert await Keyword.objects.filter(lecture=lecture).acount() == len(keywords)
    summary = await Summary.objects.aget(lecture=lecture)
    assert len(summary.sentences) >= 3
    assert "succeeded" in worker.read_text()
