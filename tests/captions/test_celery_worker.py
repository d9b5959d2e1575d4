"""A real Celery worker on Redis: a lecture ends -> the worker computes its notes -> the open
viewer pages are told. Runs where REDIS_URL is set (CI's PostgreSQL + Redis pass)."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from pytest_django import Settings

from captions.models import TranscriptSegment
from classroom import recovery
from hearus_site.celery import app
from hearus_testkit.celery_worker import CeleryWorker
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


class Worker(CeleryWorker):
    """`celery worker -Q nlp,media` in its own process, on the test database."""

    def __init__(self, log: Path) -> None:
        super().__init__(daphne_server.server_environment(), log)


@pytest.fixture
def workers(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Worker]:
    """A worker not yet started; this test process queues tasks on Redis instead of running
    them itself."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    worker = Worker(tmp_path / "worker.log")
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def worker(workers: Worker) -> Path:
    """`celery worker -Q nlp,media` running in its own process, on the test database; this test
    process queues tasks on Redis instead of running them itself. Returns its log."""
    workers.start()
    return workers.log


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


def wait_for_status(lecture: Lecture, wanted: set[str], timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lecture.refresh_from_db()
        if lecture.status in wanted:
            return str(lecture.status)
        time.sleep(0.2)
    return str(lecture.status)


def test_a_killed_pool_child_s_task_runs_again_and_the_notes_are_stored_once(
    world: World, workers: Worker
) -> None:
    lecture = live_lecture(world)
    workers.start()
    lecture_end(lecture=lecture, by=world.instructor)
    assert wait_for_status(lecture, {"processing"}, 120) == "processing", workers.text()
    time.sleep(1.0)  # inside the task: loading the models, computing
    os.kill(workers.pool_child(), signal.SIGKILL)

    assert wait_for_status(lecture, {"ready", "failed"}, 300) == "ready", workers.text()
    assert Summary.objects.filter(lecture=lecture).count() == 1
    assert Keyword.objects.filter(lecture=lecture).exists()


def test_a_killed_worker_s_lecture_is_recovered_by_the_sweep(
    world: World, workers: Worker, settings: Settings
) -> None:
    lecture = live_lecture(world)
    workers.start()
    lecture_end(lecture=lecture, by=world.instructor)
    assert wait_for_status(lecture, {"processing"}, 120) == "processing", workers.text()
    assert workers.process is not None
    # The whole worker, as when its node is lost: its message stays unacknowledged in Redis
    # until the visibility timeout, hours away.
    child = workers.pool_child()
    workers.process.kill()
    os.kill(child, signal.SIGKILL)
    workers.process.wait()

    settings.NOTES_TIME_LIMIT_S = 0  # as if the notes' time limit had passed
    settings.NOTES_GRACE_S = 0
    assert recovery.recover_stuck_lectures() == [(lecture.pk, "notes")]
    workers.start()  # a new worker (the deployment replaced the dead one)
    assert wait_for_status(lecture, {"ready", "failed"}, 300) == "ready", workers.text()
    assert Summary.objects.filter(lecture=lecture).count() == 1
