"""The instructor's broadcast socket: admission, every documented refusal, real transcription,
takeover, drop and reconnect, and the end of the lecture. Stored captions survive all of it."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async

from captions import protocol
from captions.models import TranscriptSegment
from captions.protocol import MAX_FRAME_BYTES, CloseCode
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from lectures.services import lecture_end
from ml.error_rates import word_error_rate
from tests.captions.conftest import Socket, broadcast_path, viewer_path
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

START = {"type": "start", "sample_rate": 16000, "format": "pcm_s16le", "language": "en"}
FRAME_BYTES = 3200  # 100 ms, what the broadcast page sends


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


def stored(lecture: Lecture) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture=lecture).order_by("seq").values_list("seq", "text")
    )


async def open_broadcast(world: World, sockets: list[Socket]) -> Socket:
    await database_sync_to_async(make_live)(world.lecture)
    socket = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(socket)
    assert (await socket.receive())["type"] == "ready"
    return socket


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("anonymous", CloseCode.UNAUTHENTICATED),
        ("student", CloseCode.FORBIDDEN),
        ("other_student", CloseCode.NOT_FOUND),
        ("other_instructor", CloseCode.NOT_FOUND),
    ],
)
async def test_only_the_course_instructors_may_broadcast(
    world: World, sockets: list[Socket], role: str, code: CloseCode
) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    socket = await Socket(broadcast_path(world.lecture.pk), world.user(role)).open()
    sockets.append(socket)
    assert await socket.closed_with() == code


async def test_a_lecture_that_is_not_live_cannot_be_broadcast(
    world: World, sockets: list[Socket]
) -> None:
    socket = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(socket)
    assert await socket.closed_with() == CloseCode.NOT_LIVE


MISBEHAVIOUR = {
    "malformed JSON": ("text", "{not json", CloseCode.BAD_MESSAGE),
    "unknown type": ("json", {"type": "shout"}, CloseCode.BAD_MESSAGE),
    "binary before start": ("bytes", b"\x00\x00" * 160, CloseCode.BAD_MESSAGE),
    "wrong sample rate": ("json", {**START, "sample_rate": 44100}, CloseCode.BAD_MESSAGE),
    "wrong format": ("json", {**START, "format": "f32le"}, CloseCode.BAD_MESSAGE),
    "unsupported language": ("json", {**START, "language": "xx"}, CloseCode.BAD_MESSAGE),
    "huge text": (
        "text",
        '{"type": "start", "pad": "' + "x" * 5000 + '"}',
        CloseCode.FRAME_TOO_LARGE,
    ),
}


@pytest.mark.parametrize("case", MISBEHAVIOUR)
async def test_misbehaviour_gets_its_close_code_and_keeps_stored_captions(
    world: World, sockets: list[Socket], case: str
) -> None:
    kind, payload, code = MISBEHAVIOUR[case]
    before = await database_sync_to_async(stored)(world.lecture)
    socket = await open_broadcast(world, sockets)
    if kind == "json":
        await socket.send_json(payload)
    elif kind == "text":
        await socket.send_text(str(payload))
    else:
        assert isinstance(payload, bytes)
        await socket.send_bytes(payload)
    error = await socket.receive_until("error")
    assert error["code"] == code and error["reason"]
    assert await socket.closed_with() == code
    assert await database_sync_to_async(stored)(world.lecture) == before


async def test_an_oversized_frame_is_refused(world: World, sockets: list[Socket]) -> None:
    socket = await open_broadcast(world, sockets)
    await socket.send_json(START)
    await socket.receive_until("started")
    await socket.send_bytes(b"\x00" * (MAX_FRAME_BYTES + 2))
    assert await socket.closed_with() == CloseCode.FRAME_TOO_LARGE
    assert await database_sync_to_async(stored)(world.lecture) == [(1, "수업을 시작하겠습니다.")]


async def test_audio_faster_than_real_time_is_refused(
    world: World, sockets: list[Socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real burst (AUDIO_BURST_S) covers a resend of all the page keeps; 30 s here keeps the
    # silence the server transcribes before it hangs up short.
    monkeypatch.setattr(protocol, "AUDIO_BURST_S", 30.0)
    socket = await open_broadcast(world, sockets)
    await socket.send_json(START)
    await socket.receive_until("started")
    for _ in range(70):  # 35 s of audio at once: past the 30 s burst
        await socket.send_bytes(b"\x00" * (MAX_FRAME_BYTES))
    assert await socket.closed_with(timeout=30) == CloseCode.TOO_FAST
    assert await database_sync_to_async(stored)(world.lecture) == [(1, "수업을 시작하겠습니다.")]


async def test_a_message_flood_is_refused(world: World, sockets: list[Socket]) -> None:
    socket = await open_broadcast(world, sockets)
    await socket.send_json(START)
    await socket.receive_until("started")
    for _ in range(1_200):  # tiny frames, far more than 100 messages a second
        await socket.send_bytes(b"\x00\x00")
    assert await socket.closed_with(timeout=30) == CloseCode.TOO_FAST


async def test_a_second_connection_takes_over_and_the_first_is_told(
    world: World, sockets: list[Socket]
) -> None:
    first = await open_broadcast(world, sockets)
    second = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(second)
    assert (await second.receive())["type"] == "ready"
    assert await first.closed_with() == CloseCode.REPLACED
    await second.send_json(START)
    assert (await second.receive_until("started"))["language"] == "en"


@pytest.fixture(scope="module")
def english_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory: Path = tmp_path_factory.mktemp("speech")
    return spoken_pcm16(ENGLISH_TEXT, "en-us", directory, then_silence_s=1.5)


async def stream(socket: Socket, pcm: bytes, *, pace: float = 0.0) -> None:
    for offset in range(0, len(pcm), FRAME_BYTES):
        await socket.send_bytes(pcm[offset : offset + FRAME_BYTES])
        await asyncio.sleep(pace)


async def test_spoken_words_reach_a_viewer_as_stored_finals(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    broadcaster = await open_broadcast(world, sockets)
    viewer = await Socket(viewer_path(world.lecture.pk, 1), world.student).open()
    sockets.append(viewer)
    await viewer.receive()
    await broadcaster.send_json(START)
    await broadcaster.receive_until("started")
    # 10 x real time at most for the first 10 s (the burst), then 1.5 x: pace at 1.4 x.
    await stream(broadcaster, english_pcm, pace=0.1 / 1.4)
    await broadcaster.send_json({"type": "stop"})
    assert await broadcaster.closed_with(timeout=120) == 1000
    finals = await database_sync_to_async(stored)(world.lecture)
    spoken = " ".join(text for seq, text in finals if seq > 1)
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.15, spoken
    received: list[dict[str, Any]] = []
    while len(received) < len(finals) - 1:
        received.append(await viewer.receive_until("final"))
    assert [f["seq"] for f in received] == [seq for seq, _ in finals[1:]]


async def test_a_dropped_broadcaster_keeps_its_captions_and_can_continue(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    first = await open_broadcast(world, sockets)
    await first.send_json(START)
    await first.receive_until("started")
    half = len(english_pcm) // 2 // FRAME_BYTES * FRAME_BYTES
    await stream(first, english_pcm[:half])
    await first.close()  # the laptop lid closes: no stop message
    after_drop = await database_sync_to_async(stored)(world.lecture)
    assert len(after_drop) > 1  # what was heard before the drop is stored
    again = await open_broadcast(world, sockets)
    await again.send_json(START)
    await again.receive_until("started")
    await stream(again, english_pcm[half:])
    await again.send_json({"type": "stop"})
    assert await again.closed_with(timeout=120) == 1000
    final = await database_sync_to_async(stored)(world.lecture)
    assert final[: len(after_drop)] == after_drop
    assert [seq for seq, _ in final] == list(range(1, len(final) + 1))
    assert len(final) > len(after_drop)


async def test_ending_the_lecture_closes_the_broadcast_after_saving_its_last_words(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    broadcaster = await open_broadcast(world, sockets)
    await broadcaster.send_json(START)
    await broadcaster.receive_until("started")
    await stream(broadcaster, english_pcm[: 16000 * 2 * 4])  # the first 4 s, then no pause
    while not (await broadcaster.receive_until("partial"))["text"]:
        pass  # the words are heard but not final yet
    await database_sync_to_async(lecture_end)(lecture=world.lecture, by=world.instructor)
    assert await broadcaster.closed_with(timeout=120) == CloseCode.LECTURE_ENDED
    texts = " ".join(text for seq, text in await database_sync_to_async(stored)(world.lecture))
    assert "machine learning" in texts.lower()
