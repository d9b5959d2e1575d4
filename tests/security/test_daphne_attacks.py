"""Attacks on the sockets through a real Daphne server: messages over the transport limit,
foreign origins, and a bounded fuzz of both sockets (issue 15, items 5 and 7)."""

import json
import random
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from captions.models import TranscriptSegment
from captions.protocol import CloseCode
from lectures.models import Lecture
from tests.captions.conftest import session_cookie
from tests.conftest import World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

START = {"type": "start", "sample_rate": 16000, "format": "pcm_s16le", "language": "en"}
OVER_TRANSPORT_LIMIT = 1024 * 1024 + 512 * 1024  # 1.5 MiB: over Daphne's 1 MiB


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne_server() as base_url:
        yield base_url


def open_socket(
    base_url: str, path: str, cookie: str, origin: str | None = None
) -> ClientConnection:
    return connect(
        base_url.replace("http", "ws") + path,
        origin=Origin(origin or base_url),
        additional_headers={"Cookie": cookie},
        open_timeout=20,
        max_size=None,
        legacy=True,  # a plain connection object, closed by the test
    )


def receive(ws: ClientConnection, kind: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        if message["type"] == kind:
            return message


def close_code(ws: ClientConnection, timeout: float = 60) -> int | None:
    """The server's close code; None when the connection ended without a close frame."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            ws.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


def stored(lecture: Lecture) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture=lecture).order_by("seq").values_list("seq", "text")
    )


def healthy(base_url: str) -> bool:
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=10) as response:
        return bool(response.status == 200)


def test_messages_over_the_transport_limit_are_closed_with_4413(world: World, server: str) -> None:
    """Before: Daphne dropped the TCP connection without a close frame."""
    make_live(world.lecture)
    before = stored(world.lecture)
    broadcaster = open_socket(
        server, f"/ws/lectures/{world.lecture.pk}/broadcast/", session_cookie(world.instructor)
    )
    receive(broadcaster, "ready")
    broadcaster.send(json.dumps(START))
    receive(broadcaster, "started")
    broadcaster.send(b"\x00" * OVER_TRANSPORT_LIMIT)
    error = receive(broadcaster, "error")
    assert error["code"] == CloseCode.FRAME_TOO_LARGE
    assert close_code(broadcaster) == CloseCode.FRAME_TOO_LARGE

    viewer = open_socket(
        server, f"/ws/lectures/{world.lecture.pk}/captions/", session_cookie(world.student)
    )
    receive(viewer, "snapshot")
    viewer.send(json.dumps({"type": "ping", "pad": "x" * OVER_TRANSPORT_LIMIT}))
    assert close_code(viewer) == CloseCode.FRAME_TOO_LARGE

    assert stored(world.lecture) == before
    assert healthy(server)
    again = open_socket(
        server, f"/ws/lectures/{world.lecture.pk}/broadcast/", session_cookie(world.instructor)
    )
    assert receive(again, "ready")["protocol"] == 1
    again.close()


def test_the_origin_must_match_scheme_host_and_port(world: World, server: str) -> None:
    """Before: any port of an allowed host (http://localhost:9999) was accepted."""
    port = server.rsplit(":", 1)[1]
    cookie = session_cookie(world.student)
    path = f"/ws/lectures/{world.lecture.pk}/captions/"
    for origin in (
        "http://127.0.0.1:9999",
        f"https://127.0.0.1:{port}",
        f"http://localhost:{port}",
        "http://127.0.0.1",
        f"http://evil.example:{port}",
        "null",
    ):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(server, path, cookie, origin=origin)
        assert refused.value.response.status_code == 403, origin
    ws = open_socket(server, path, cookie)  # the server's own origin
    assert receive(ws, "snapshot")["type"] == "snapshot"
    ws.close()


DOCUMENTED_CLOSES = {1000, 4400, 4413, 4429}


def fuzz_message(rng: random.Random, broadcaster: bool) -> str | bytes:
    """One message: mostly what a client might plausibly send, some of it broken."""
    kind = rng.random()
    if kind < 0.45:
        if broadcaster:
            return bytes(rng.choice([3200, 3200, 3200, 2, 16000, 16002, 3, 0, 40000]))
        return json.dumps({"type": "ping"})
    if kind < 0.55:
        return json.dumps(START) if broadcaster else json.dumps({"type": "snapshot"})
    if kind < 0.65:
        depth = rng.choice([2, 8, 9, 50, 2000])
        opener = rng.choice(["[", '{"a":'])
        closer = "]" if opener == "[" else "}"
        return opener * depth + "1" + closer * depth
    if kind < 0.75:
        text = json.dumps(rng.choice([START, {"type": "stop"}, {"type": "ping"}]))
        cut = rng.randrange(len(text))
        return text[:cut] + chr(rng.randrange(32, 0xD7FF)) + text[cut + 1 :]
    if kind < 0.85:
        return rng.randbytes(rng.randrange(0, 20000))
    if kind < 0.95:
        return "".join(chr(rng.randrange(32, 0xD7FF)) for _ in range(rng.randrange(0, 3000)))
    return "x" * rng.choice([4097, 70_000, 1_100_000])


@pytest.mark.slow
def test_a_bounded_fuzz_of_both_sockets_keeps_the_server_and_other_lectures_up(
    world: World, server: str
) -> None:
    """2,000 messages, mostly broken, to a lecture's broadcaster and viewer sockets. Every
    close is a documented code, the server stays up, a viewer of another lecture is answered
    throughout, and no stored caption changes."""
    make_live(world.lecture)
    make_live(world.other_lecture)
    before = {lecture.pk: stored(lecture) for lecture in (world.lecture, world.other_lecture)}
    rng = random.Random(15)
    cookies = {
        "broadcast": session_cookie(world.instructor),
        "captions": session_cookie(world.student),
    }
    bystander = open_socket(
        server,
        f"/ws/lectures/{world.other_lecture.pk}/captions/",
        session_cookie(world.other_student),
    )
    receive(bystander, "snapshot")
    sockets: dict[str, ClientConnection] = {}
    closes: list[int | None] = []

    def reopen(name: str) -> ClientConnection:
        ws = open_socket(server, f"/ws/lectures/{world.lecture.pk}/{name}/", cookies[name])
        receive(ws, "ready" if name == "broadcast" else "snapshot")
        return ws

    for sent in range(2000):
        name = rng.choice(["broadcast", "captions"])
        if name not in sockets:
            sockets[name] = reopen(name)
        ws = sockets[name]
        refused = False
        try:
            ws.send(fuzz_message(rng, name == "broadcast"))
            while not refused:  # what the server said meanwhile (a refusal comes within ms)
                reply = ws.recv(timeout=0.005)
                refused = isinstance(reply, str) and json.loads(reply)["type"] == "error"
        except TimeoutError:
            pass
        except ConnectionClosed:
            refused = True
        if refused:  # as a client should: stop sending, read the close
            closes.append(close_code(ws, timeout=30))
            del sockets[name]
        if sent % 100 == 0:
            bystander.send(json.dumps({"type": "ping"}))
            assert receive(bystander, "pong", timeout=10)["type"] == "pong"
    for ws in sockets.values():
        ws.close()
    assert len(closes) > 100  # the fuzz did reach the refusals
    assert set(closes) - {None} <= DOCUMENTED_CLOSES, closes
    # A message already on its way when the refusal comes can still race the close: on a
    # loaded machine a few connections end without the close frame reaching the client (the
    # connection is reset once the server has its answer to the close); never more than a few.
    assert closes.count(None) <= len(closes) // 50, closes
    assert healthy(server)
    bystander.send(json.dumps({"type": "ping"}))
    assert receive(bystander, "pong", timeout=10)["type"] == "pong"
    assert {lecture.pk: stored(lecture) for lecture in (world.lecture, world.other_lecture)} == (
        before
    )
