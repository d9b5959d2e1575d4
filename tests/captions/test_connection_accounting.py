"""Connections are accounted for exactly: however a socket ends (closed, dropped, or its
consumer cancelled mid-admission as Daphne does to one that is slow to go), the viewer gauge and
the lecture group's members return to the truth."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from prometheus_client import REGISTRY

from lectures import events
from lectures.models import Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def viewers_gauge() -> float:
    return REGISTRY.get_sample_value("hearus_connected_viewers") or 0.0


async def settled_gauge() -> float:
    """The gauge once it stops moving (sockets of earlier tests may still be going)."""
    value = viewers_gauge()
    for _ in range(50):
        await asyncio.sleep(0.1)
        if viewers_gauge() == value:
            return value
        value = viewers_gauge()
    return value


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> bool:
    """A consumer's release runs as its own task once cancelled: give it a moment."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def group_members(lecture_id: int) -> int:
    layer = get_channel_layer()
    groups = getattr(layer, "groups", None)
    if groups is not None:  # the in-memory layer
        return len(groups.get(events.lecture_group(lecture_id), {}))
    connection = layer.connection(layer.consistent_hash(events.lecture_group(lecture_id)))
    key = layer._group_key(events.lecture_group(lecture_id))
    return int(await connection.zcard(key))


def make_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save(update_fields=["status"])


async def test_viewers_that_come_and_go_any_way_leave_no_trace(world: World) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    before = await settled_gauge()
    lecture_id = world.lecture.pk
    # Members left in a shared Redis by earlier runs (they expire after a day) are not ours.
    members_before = await group_members(lecture_id)

    opened = await asyncio.gather(
        *(Socket(viewer_path(lecture_id), world.student).open() for _ in range(60))
    )
    for socket in opened:
        assert (await socket.receive())["type"] == "snapshot"
    assert await eventually(lambda: _equals(viewers_gauge(), before + 60)), viewers_gauge()
    assert await group_members(lecture_id) == members_before + 60

    closed, dropped = opened[:30], opened[30:]
    await asyncio.gather(*(socket.close() for socket in closed))
    # Consumers killed without their disconnect handler ever running.
    for socket in dropped:
        assert socket.communicator is not None
        socket.communicator.future.cancel()
    await asyncio.gather(
        *(asyncio.wait([s.communicator.future], timeout=10) for s in dropped if s.communicator)
    )
    assert await eventually(lambda: _equals(viewers_gauge(), before)), viewers_gauge()
    assert await eventually(lambda: _members_are(lecture_id, members_before))


async def _equals(value: float, expected: float) -> bool:
    return value == expected


async def _members_are(lecture_id: int, expected: int) -> bool:
    return await group_members(lecture_id) == expected


async def test_a_viewer_cancelled_during_admission_is_not_counted(world: World) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    before = await settled_gauge()
    members_before = await group_members(world.lecture.pk)
    for attempt in range(20):
        socket = Socket(viewer_path(world.lecture.pk), world.student)
        task = asyncio.ensure_future(socket.open())
        await asyncio.sleep(0.01 * attempt)  # inside admission, the snapshot, the accept...
        if socket.communicator is not None:
            socket.communicator.future.cancel()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if socket.communicator is not None:
            await asyncio.wait([socket.communicator.future], timeout=10)
    assert await eventually(lambda: _equals(viewers_gauge(), before)), viewers_gauge()
    assert await eventually(lambda: _members_are(world.lecture.pk, members_before))
