"""Viewers: who may watch, the snapshot, resuming with ?after, and receiving every final once."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from captions.events import final_message
from captions.models import TranscriptSegment
from captions.protocol import CloseCode
from captions.services import partial_publish, segment_append
from lectures import events
from lectures.models import Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


async def append(lecture: Lecture, n: int) -> None:
    for i in range(n):
        await database_sync_to_async(segment_append)(
            lecture_id=lecture.pk, start_ms=i * 1000, end_ms=i * 1000 + 900, text=f"문장 {i}"
        )


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("anonymous", CloseCode.UNAUTHENTICATED),
        ("other_student", CloseCode.NOT_FOUND),
        ("other_instructor", CloseCode.NOT_FOUND),
    ],
)
async def test_those_outside_the_course_cannot_watch(
    world: World, sockets: list[Socket], role: str, code: CloseCode
) -> None:
    socket = await Socket(viewer_path(world.lecture.pk), world.user(role)).open()
    sockets.append(socket)
    assert (await socket.receive())["code"] == code
    assert await socket.closed_with() == code


async def test_a_lecture_that_does_not_exist_is_not_found(
    world: World, sockets: list[Socket]
) -> None:
    socket = await Socket(viewer_path(999_999), world.student).open()
    sockets.append(socket)
    assert await socket.closed_with() == CloseCode.NOT_FOUND


@pytest.mark.parametrize("role", ["student", "instructor", "staff"])
async def test_members_get_a_snapshot_of_every_final_and_the_partial(
    world: World, sockets: list[Socket], role: str
) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    await partial_publish(lecture_id=world.lecture.pk, text="지금 말하는")
    socket = await Socket(viewer_path(world.lecture.pk), world.user(role)).open()
    sockets.append(socket)
    snapshot = await socket.receive()
    assert snapshot["type"] == "snapshot"
    assert snapshot["protocol"] == 1
    assert [f["text"] for f in snapshot["finals"]] == ["수업을 시작하겠습니다."]
    assert snapshot["partial"] == "지금 말하는"
    assert snapshot["lecture"]["status"] == "live"


async def test_a_bad_after_value_is_a_bad_message(world: World, sockets: list[Socket]) -> None:
    socket = await Socket(viewer_path(world.lecture.pk, "-3"), world.student).open()
    sockets.append(socket)
    assert await socket.closed_with() == CloseCode.BAD_MESSAGE


async def test_two_viewers_receive_every_final_in_order_exactly_once(
    world: World, sockets: list[Socket]
) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    viewers = [
        await Socket(viewer_path(world.lecture.pk, 1), user).open()
        for user in (world.student, world.instructor)
    ]
    sockets.extend(viewers)
    for viewer in viewers:
        assert (await viewer.receive())["finals"] == []
    await append(world.lecture, 5)
    for viewer in viewers:
        finals = [await viewer.receive_until("final") for _ in range(5)]
        assert [f["seq"] for f in finals] == [2, 3, 4, 5, 6]
        assert finals[0]["text"] == "문장 0"
        assert await viewer.communicator.receive_nothing(0.2)  # type: ignore[union-attr]


async def test_a_viewer_that_reconnects_with_after_loses_nothing(
    world: World, sockets: list[Socket]
) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    first = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(first)
    await first.receive()
    await append(world.lecture, 2)
    last_seen = (await first.receive_until("final"))["seq"]
    await first.close()
    await append(world.lecture, 3)  # said while the viewer was away
    again = await Socket(viewer_path(world.lecture.pk, last_seen), world.student).open()
    sockets.append(again)
    snapshot = await again.receive()
    assert [f["seq"] for f in snapshot["finals"]] == [3, 4, 5, 6]
    await append(world.lecture, 1)
    assert (await again.receive_until("final"))["seq"] == 7


async def test_a_viewer_may_ping_but_not_talk(world: World, sockets: list[Socket]) -> None:
    socket = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(socket)
    await socket.receive()
    await socket.send_json({"type": "ping"})
    assert (await socket.receive())["type"] == "pong"
    await socket.send_json({"type": "final", "text": "injected"})
    assert await socket.closed_with() == CloseCode.BAD_MESSAGE
    assert not await database_sync_to_async(
        TranscriptSegment.objects.filter(text="injected").exists
    )()


async def test_viewers_hear_when_the_lecture_ends(world: World, sockets: list[Socket]) -> None:
    from lectures.services import lecture_end

    await database_sync_to_async(make_live)(world.lecture)
    socket = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(socket)
    await socket.receive()
    await database_sync_to_async(lecture_end)(lecture=world.lecture, by=world.instructor)
    assert (await socket.receive_until("status"))["status"] == "ended"


async def test_a_final_the_channel_layer_lost_is_read_from_the_database(
    world: World, sockets: list[Socket]
) -> None:
    """Redis pub/sub delivers at most once: a viewer that sees seq 4 after seq 2 fetches 3."""
    await database_sync_to_async(make_live)(world.lecture)
    viewer = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(viewer)
    assert [f["seq"] for f in (await viewer.receive())["finals"]] == [1]
    stored = [
        await database_sync_to_async(TranscriptSegment.objects.create)(
            lecture=world.lecture,
            seq=seq,
            start_ms=seq * 1000,
            end_ms=seq * 1000 + 500,
            text=f"{seq}",
        )
        for seq in (2, 3, 4)
    ]
    layer = get_channel_layer()
    assert layer is not None
    # Only 2 and 4 are published: 3 "got lost" on the way.
    for segment in (stored[0], stored[2]):
        await layer.group_send(
            events.lecture_group(world.lecture.pk),
            events.as_event(final_message(segment), handler=events.FINAL),
        )
    received = [(await viewer.receive_until("final"))["seq"] for _ in range(3)]
    assert received == [2, 3, 4]
