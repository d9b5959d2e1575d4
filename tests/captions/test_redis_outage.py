"""Redis is not a single point of loss: with the channel layer down (its own Redis, killed and
restarted by the test), a real Daphne keeps its broadcaster and viewer sockets open, captions are
stored in the database and viewers read them from there, and once Redis is back publishing
resumes. Nothing is missing and nothing arrives twice."""

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from websockets.sync.client import ClientConnection

from captions.services import segment_append
from hearus_testkit.redis_server import OwnRedis
from lectures.models import Lecture
from tests.captions.conftest import session_cookie
from tests.captions.test_daphne_end_to_end import START, open_socket
from tests.conftest import World
from tests.daphne_server import daphne_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def finals(ws: ClientConnection, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The next `count` final captions (anything else skipped)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(received) < count:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == "final":
            received.append(message)
    return received


def no_final_within(ws: ClientConnection, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        while True:
            message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message["type"] == "final":
                return False
    except TimeoutError:
        return True


def ready_state(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/readyz", timeout=10) as response:
        state: dict[str, Any] = json.loads(response.read())
        return state


def test_captions_keep_flowing_through_a_redis_outage(world: World, redis: OwnRedis) -> None:
    world.lecture.segments.all().delete()
    Lecture.objects.filter(pk=world.lecture.pk).update(status=Lecture.Status.LIVE)
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis.url], "prefix": "hearus"},  # as the server's
        }
    }
    lecture_id = world.lecture.pk

    def append(seq: int) -> None:
        segment_append(
            lecture_id=lecture_id, start_ms=seq * 1000, end_ms=seq * 1000 + 900, text=f"말 {seq}"
        )

    with (
        override_settings(CHANNEL_LAYERS=layers),
        daphne_server({"REDIS_URL": redis.url, "CELERY_TASK_ALWAYS_EAGER": "1"}) as base_url,
    ):
        path = f"/ws/lectures/{lecture_id}/captions/?after=0"
        viewer = open_socket(base_url, path, session_cookie(world.student))
        assert json.loads(viewer.recv(timeout=20))["type"] == "snapshot"
        broadcaster = open_socket(
            base_url, f"/ws/lectures/{lecture_id}/broadcast/", session_cookie(world.instructor)
        )
        assert json.loads(broadcaster.recv(timeout=20))["type"] == "ready"
        broadcaster.send(json.dumps({**START, "language": "ko"}))

        append(1)
        assert [m["seq"] for m in finals(viewer, 1)] == [1]

        redis.kill()
        append(2)  # stored; its publication fails quietly
        append(3)
        assert [m["seq"] for m in finals(viewer, 2)] == [2, 3]  # read from the database
        state = ready_state(base_url)
        assert state["status"] == "degraded" and state["degraded"] == ["channel_layer"]
        broadcaster.send(b"\x00\x00" * 1600)  # the broadcaster is still served
        assert broadcaster.close_code is None

        redis.start()  # the same port, empty: every group is forgotten
        time.sleep(3)  # the consumers notice and join again
        append(4)
        append(5)
        assert [m["seq"] for m in finals(viewer, 2)] == [4, 5]
        assert no_final_within(viewer, 2.0)  # and none twice
        deadline = time.monotonic() + 15
        while ready_state(base_url)["status"] != "ok":
            assert time.monotonic() < deadline, "readiness never recovered"
            time.sleep(0.5)
        broadcaster.send(json.dumps({"type": "stop"}))
        viewer.close()
        broadcaster.close()
