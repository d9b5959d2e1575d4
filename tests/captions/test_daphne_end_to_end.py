"""The live caption path through a real Daphne server (PostgreSQL + Redis in CI): speech in
over one websocket, captions out over others, exactly as browsers would connect."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from knox.models import AuthToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from captions.models import TranscriptSegment
from captions.protocol import MAX_FRAME_BYTES, CloseCode
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from ml.error_rates import word_error_rate
from tests.captions.conftest import session_cookie
from tests.conftest import World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

START = {"type": "start", "sample_rate": 16000, "format": "pcm_s16le", "language": "en"}
FRAME_BYTES = 3200


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne_server() as base_url:
        yield base_url


@pytest.fixture(scope="module")
def english_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory: Path = tmp_path_factory.mktemp("speech")
    return spoken_pcm16(ENGLISH_TEXT, "en-us", directory, then_silence_s=1.5)


def open_socket(base_url: str, path: str, cookie: str) -> ClientConnection:
    return connect(
        base_url.replace("http", "ws") + path,
        origin=Origin(base_url),  # must be the server's own origin (hearus_site.origin)
        additional_headers={"Cookie": cookie},
        open_timeout=20,
        legacy=True,  # a plain connection object, closed by the test
    )


def receive(ws: ClientConnection, kind: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        if message["type"] == kind:
            return message


def finals_and_status(
    ws: ClientConnection, *, last_seq: int, seen: int = 1
) -> tuple[list[int], str]:
    """Read until the final numbered `last_seq` and the `ended` status have both arrived;
    `seen` is the last seq the client already had."""
    seqs: list[int] = []
    statuses: list[str] = []  # ended, then processing and ready as the notes are computed
    while "ended" not in statuses or (seqs[-1] if seqs else seen) < last_seq:
        message = json.loads(ws.recv(timeout=60))
        if message["type"] == "final":
            seqs.append(message["seq"])
        elif message["type"] == "status":
            statuses.append(message["status"])
    return seqs, "ended"


def close_code(ws: ClientConnection, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    try:
        while True:
            ws.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code


def api_post(base_url: str, path: str, token: str) -> int:
    import urllib.request

    request = urllib.request.Request(
        base_url + path, method="POST", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def stored(world: World) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture=world.lecture)
        .order_by("seq")
        .values_list("seq", "text")
    )


def test_speech_reaches_two_viewers_in_order_once_and_a_reconnecting_viewer_loses_nothing(
    world: World, server: str, english_pcm: bytes
) -> None:
    _instance, token = AuthToken.objects.create(user=world.instructor)
    assert api_post(server, f"/api/lectures/{world.lecture.pk}/start/", token) == 200
    lecture_path = f"/ws/lectures/{world.lecture.pk}"
    student_cookie, staff_cookie = session_cookie(world.student), session_cookie(world.staff)
    steady = open_socket(server, f"{lecture_path}/captions/", student_cookie)
    dropper = open_socket(server, f"{lecture_path}/captions/", staff_cookie)
    for viewer in (steady, dropper):
        assert [f["seq"] for f in receive(viewer, "snapshot")["finals"]] == [1]

    broadcaster = open_socket(
        server, f"{lecture_path}/broadcast/", session_cookie(world.instructor)
    )
    receive(broadcaster, "ready")
    broadcaster.send(json.dumps(START))
    receive(broadcaster, "started")
    half = len(english_pcm) // 2 // FRAME_BYTES * FRAME_BYTES
    for offset in range(0, len(english_pcm), FRAME_BYTES):
        if offset == half:
            last_seen = 1
            try:
                while True:
                    last_seen = receive(dropper, "final", timeout=0.01)["seq"]
            except TimeoutError:
                pass
            dropper.close()
        broadcaster.send(english_pcm[offset : offset + FRAME_BYTES])
        time.sleep(0.1 / 1.4)  # a little faster than real time, within the rate limit
    dropper = open_socket(server, f"{lecture_path}/captions/?after={last_seen}", staff_cookie)
    resumed = [f["seq"] for f in receive(dropper, "snapshot")["finals"]]

    assert api_post(server, f"/api/lectures/{world.lecture.pk}/end/", token) == 200
    assert close_code(broadcaster, timeout=120) == CloseCode.LECTURE_ENDED

    finals = stored(world)
    spoken = " ".join(text for seq, text in finals if seq > 1)
    # The captions are this speech. How accurate they are is measured on a quiet machine by
    # tests/ml/test_streaming_real.py and bench/asr_quality.py; here Daphne, the test process
    # and two models share two cores, and under load the streaming policy trades accuracy for
    # time (one or two words of 31).
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.2, spoken
    all_seqs = [seq for seq, _ in finals]
    steady_seqs, steady_status = finals_and_status(steady, last_seq=all_seqs[-1])
    assert [1, *steady_seqs] == all_seqs  # every final, in order, once
    assert steady_status == "ended"
    dropper_seqs, _ = finals_and_status(
        dropper, last_seq=all_seqs[-1], seen=resumed[-1] if resumed else last_seen
    )
    assert [*resumed, *dropper_seqs] == list(range(last_seen + 1, all_seqs[-1] + 1))
    for ws in (steady, dropper):
        ws.close()


MISBEHAVIOUR: dict[str, tuple[list[Any], CloseCode]] = {
    "malformed JSON": (["{oops"], CloseCode.BAD_MESSAGE),
    "binary before start": ([b"\x00\x00" * 800], CloseCode.BAD_MESSAGE),
    "wrong sample rate": ([json.dumps({**START, "sample_rate": 48000})], CloseCode.BAD_MESSAGE),
    "oversized frame": (
        [json.dumps(START), b"\x00" * (MAX_FRAME_BYTES + 2)],
        CloseCode.FRAME_TOO_LARGE,
    ),
    "flood": ([json.dumps(START), *([b"\x00\x00"] * 1_500)], CloseCode.TOO_FAST),
}


@pytest.mark.parametrize("case", MISBEHAVIOUR)
def test_each_misbehaviour_gets_its_close_code_on_a_real_server(
    world: World, server: str, case: str
) -> None:
    messages, code = MISBEHAVIOUR[case]
    world.lecture.status = "live"
    world.lecture.save()
    before = stored(world)
    ws = open_socket(
        server, f"/ws/lectures/{world.lecture.pk}/broadcast/", session_cookie(world.instructor)
    )
    receive(ws, "ready")
    for message in messages:
        try:
            ws.send(message)
        except ConnectionClosed:
            break
    assert close_code(ws) == code
    assert stored(world) == before


def test_an_idle_viewer_stays_connected(world: World, server: str) -> None:
    """Nothing said for a while is normal; the socket must not time out under the viewer."""
    ws = open_socket(
        server, f"/ws/lectures/{world.lecture.pk}/captions/", session_cookie(world.student)
    )
    receive(ws, "snapshot")
    with pytest.raises(TimeoutError):
        ws.recv(timeout=7)
    ws.send(json.dumps({"type": "ping"}))
    assert receive(ws, "pong", timeout=5)["type"] == "pong"
    ws.close()
