"""Every malformed input class on both sockets gets its documented close code (docs/protocol.md,
"Close codes"); deeply nested JSON is refused before it is parsed, and a broadcaster refused
mid-lecture still stores everything it heard (issue 15, item 4)."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from channels.db import database_sync_to_async

from captions import metrics
from captions.models import TranscriptSegment
from captions.protocol import (
    MAX_FRAME_BYTES,
    MAX_JSON_DEPTH,
    CloseCode,
    ProtocolError,
    load_json,
)
from captions.services import partial_get
from hearus_testkit.speech import pcm16, silence, synthesize
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from tests.captions.conftest import Socket, broadcast_path, viewer_path
from tests.conftest import World

START = {"type": "start", "sample_rate": 16000, "format": "pcm_s16le", "language": "en"}
NESTED_ARRAYS = "[" * 2000 + "]" * 2000  # 4,000 bytes: under the size limit
LONG_STOP = '{"type": "stop", "p": "' + "x" * 5000 + '"}'
LONG_PING = '{"type": "ping", "p": "' + "x" * 5000 + '"}'
TOO_LARGE = CloseCode.FRAME_TOO_LARGE
NESTED_OBJECTS = '{"type": "start", "x": ' + '{"a": ' * 600 + "1" + "}" * 600 + "}"


def stored(lecture: Lecture) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture=lecture).order_by("seq").values_list("seq", "text")
    )


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


# -- the parser alone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (NESTED_ARRAYS, CloseCode.BAD_MESSAGE),
        (NESTED_OBJECTS[:4000], CloseCode.BAD_MESSAGE),
        ('{"type": "ping", "x": "' + "[" * 3000 + '"}', None),  # brackets in a string: fine
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), CloseCode.BAD_MESSAGE),
        ("x" * 4097, CloseCode.FRAME_TOO_LARGE),
        ("한" * 1400, CloseCode.FRAME_TOO_LARGE),  # 4,200 bytes in 1,400 characters
    ],
)
def test_the_parser_bounds_size_and_depth_before_parsing(text: str, code: CloseCode | None) -> None:
    if code is None:
        assert load_json(text)["type"] == "ping"
        return
    with pytest.raises(ProtocolError) as refused:
        load_json(text)
    assert refused.value.code == code


def test_nesting_up_to_the_limit_is_parsed() -> None:
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    assert load_json(json.dumps({"type": "ping", "x": nested}))["x"] == nested


# -- the sockets -------------------------------------------------------------------------------


# class of input: (sent after `start`?, kind, payload, close code)
BROADCASTER_INPUTS: dict[str, tuple[bool, str, Any, CloseCode]] = {
    "malformed JSON": (False, "text", "{not json", CloseCode.BAD_MESSAGE),
    "deeply nested arrays": (False, "text", NESTED_ARRAYS, CloseCode.BAD_MESSAGE),
    "deeply nested objects": (False, "text", NESTED_OBJECTS[:4000], CloseCode.BAD_MESSAGE),
    "not an object": (False, "text", "[1, 2]", CloseCode.BAD_MESSAGE),
    "no type": (False, "text", '{"sample_rate": 16000}', CloseCode.BAD_MESSAGE),
    "unknown type": (False, "json", {"type": "shout"}, CloseCode.BAD_MESSAGE),
    "audio before start": (False, "bytes", b"\x00\x00" * 160, CloseCode.BAD_MESSAGE),
    "wrong sample rate": (False, "json", {**START, "sample_rate": 44100}, CloseCode.BAD_MESSAGE),
    "start twice": (True, "json", START, CloseCode.BAD_MESSAGE),
    "odd-sized frame": (True, "bytes", b"\x00" * 3, CloseCode.BAD_MESSAGE),
    "text over 4,096 bytes": (
        False,
        "text",
        '{"type": "stop", "p": "' + "x" * 5000 + '"}',
        CloseCode.FRAME_TOO_LARGE,
    ),
    "frame over 16,000 bytes": (
        True,
        "bytes",
        b"\x00" * (MAX_FRAME_BYTES + 2),
        CloseCode.FRAME_TOO_LARGE,
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", BROADCASTER_INPUTS)
async def test_each_malformed_broadcaster_input_gets_its_code(
    world: World, sockets: list[Socket], case: str
) -> None:
    after_start, kind, payload, code = BROADCASTER_INPUTS[case]
    before = await database_sync_to_async(stored)(world.lecture)
    await database_sync_to_async(make_live)(world.lecture)
    socket = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(socket)
    assert (await socket.receive())["type"] == "ready"
    if after_start:
        await socket.send_json(START)
        await socket.receive_until("started")
    if kind == "json":
        await socket.send_json(payload)
    elif kind == "text":
        await socket.send_text(payload)
    else:
        await socket.send_bytes(payload)
    error = await socket.receive_until("error")
    assert error["code"] == code and error["reason"]
    assert await socket.closed_with() == code
    assert await database_sync_to_async(stored)(world.lecture) == before


VIEWER_INPUTS: dict[str, tuple[str, Any, CloseCode]] = {
    "malformed JSON": ("text", "{not json", CloseCode.BAD_MESSAGE),
    "deeply nested arrays": ("text", NESTED_ARRAYS, CloseCode.BAD_MESSAGE),
    "deeply nested objects": ("text", NESTED_OBJECTS[:4000], CloseCode.BAD_MESSAGE),
    "anything but ping": ("json", {"type": "start"}, CloseCode.BAD_MESSAGE),
    "binary": ("bytes", b"\x00\x01", CloseCode.BAD_MESSAGE),
    "text over 4,096 bytes": (
        "text",
        '{"type": "ping", "p": "' + "x" * 5000 + '"}',
        CloseCode.FRAME_TOO_LARGE,
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", VIEWER_INPUTS)
async def test_each_malformed_viewer_input_gets_its_code(
    world: World, sockets: list[Socket], case: str
) -> None:
    kind, payload, code = VIEWER_INPUTS[case]
    socket = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(socket)
    assert (await socket.receive())["type"] == "snapshot"
    await socket.send_json({"type": "ping"})
    assert (await socket.receive())["type"] == "pong"
    if kind == "json":
        await socket.send_json(payload)
    elif kind == "text":
        await socket.send_text(payload)
    else:
        await socket.send_bytes(payload)
    error = await socket.receive_until("error")
    assert error["code"] == code
    assert await socket.closed_with() == code


@pytest.fixture(scope="module")
def english_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory: Path = tmp_path_factory.mktemp("speech")
    return pcm16(np.concatenate([synthesize(ENGLISH_TEXT, "en-us", directory), silence(0.5)]))


@pytest.mark.django_db(transaction=True)
async def test_nested_json_mid_lecture_is_refused_after_storing_what_was_heard(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    """The attack of issue 15: before, RecursionError closed with 1011, nothing of the last
    seconds was stored, the live gauge stayed at 1 and a stale partial stayed in the cache."""
    await database_sync_to_async(make_live)(world.lecture)
    gauge_before = metrics.LIVE_LECTURES._value.get()
    socket = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(socket)
    assert (await socket.receive())["type"] == "ready"
    await socket.send_json(START)
    await socket.receive_until("started")
    for offset in range(0, 16000 * 2 * 4, 3200):  # the first 4 s, no pause: not final yet
        await socket.send_bytes(english_pcm[offset : offset + 3200])
    while not (await socket.receive_until("partial"))["text"]:
        pass
    await socket.send_text(NESTED_ARRAYS)
    error = await socket.receive_until("error", timeout=120)
    assert error["code"] == CloseCode.BAD_MESSAGE
    assert await socket.closed_with(timeout=120) == CloseCode.BAD_MESSAGE
    texts = " ".join(text for seq, text in await database_sync_to_async(stored)(world.lecture))
    assert "machine learning" in texts.lower()
    assert await database_sync_to_async(partial_get)(world.lecture.pk) == ""
    assert metrics.LIVE_LECTURES._value.get() == gauge_before


@pytest.mark.django_db(transaction=True)
async def test_a_transcription_that_fails_closes_with_4500(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    """The 4500 row: storing a final fails (here the lecture was deleted mid-broadcast)."""
    await database_sync_to_async(make_live)(world.lecture)
    socket = await Socket(broadcast_path(world.lecture.pk), world.instructor).open()
    sockets.append(socket)
    assert (await socket.receive())["type"] == "ready"
    await socket.send_json(START)
    await socket.receive_until("started")
    await database_sync_to_async(Lecture.objects.filter(pk=world.lecture.pk).delete)()
    for offset in range(0, len(english_pcm), 3200):
        await socket.send_bytes(english_pcm[offset : offset + 3200])
    error = await socket.receive_until("error", timeout=120)
    assert error["code"] == CloseCode.SERVER_ERROR
    assert await socket.closed_with(timeout=60) == CloseCode.SERVER_ERROR
