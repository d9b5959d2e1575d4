"""Capacity is respected: a real Daphne that carries one lecture (LIVE_CAPACITY=1) refuses a
second lecture's broadcast with the documented 4503 before any audio, keeps taking a takeover of
the lecture it carries, and takes the second lecture once the first has stopped."""

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import ClientConnection

from captions.protocol import CloseCode
from lectures.models import Lecture
from tests.captions.conftest import session_cookie
from tests.captions.test_daphne_end_to_end import START, close_code, open_socket, receive
from tests.conftest import World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne_server({"LIVE_CAPACITY": "1"}) as base_url:
        yield base_url


def start_broadcast(base_url: str, lecture: Lecture, cookie: str) -> ClientConnection:
    socket = open_socket(base_url, f"/ws/lectures/{lecture.pk}/broadcast/", cookie)
    assert receive(socket, "ready")["type"] == "ready"
    socket.send(json.dumps(START))
    return socket


def test_a_broadcast_beyond_capacity_is_refused_with_4503_and_taken_later(
    world: World, server: str
) -> None:
    Lecture.objects.filter(pk__in=[world.lecture.pk, world.other_lecture.pk]).update(
        status=Lecture.Status.LIVE
    )
    first = start_broadcast(server, world.lecture, session_cookie(world.instructor))
    assert receive(first, "started")["type"] == "started"

    second = start_broadcast(server, world.other_lecture, session_cookie(world.other_instructor))
    error = receive(second, "error")
    assert error["code"] == int(CloseCode.AT_CAPACITY) == 4503
    assert close_code(second) == 4503

    # The lecture already carried here may be taken over by the instructor's new window.
    takeover = start_broadcast(server, world.lecture, session_cookie(world.instructor))
    assert receive(takeover, "started")["type"] == "started"
    assert close_code(first) == CloseCode.REPLACED
    # The replaced session is gone, the lecture is still carried: still no room for another.
    again = start_broadcast(server, world.other_lecture, session_cookie(world.other_instructor))
    assert receive(again, "error")["code"] == 4503

    takeover.send(json.dumps({"type": "stop"}))
    assert receive(takeover, "stopped")["type"] == "stopped"
    retry = start_broadcast(server, world.other_lecture, session_cookie(world.other_instructor))
    assert receive(retry, "started")["type"] == "started"
    retry.send(json.dumps({"type": "stop"}))
    receive(retry, "stopped")
