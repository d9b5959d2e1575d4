"""The lecture lifecycle (lectures.lifecycle): every status change is checked, published once
after commit, and reacted to (an ended lecture gets its notes)."""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from lectures import events, lifecycle
from lectures.models import Lecture
from lectures.services import lecture_end, lecture_start
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(world: World) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The messages sent to the lecture's sockets from now on (call to collect)."""
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    group = events.lecture_group(world.lecture.pk)
    async_to_sync(layer.group_add)(group, channel)

    async def drain() -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            try:
                event = await asyncio.wait_for(layer.receive(channel), 0.3)
            except TimeoutError:
                return received
            received.append({"handler": event["type"], **event["message"]})

    yield lambda: async_to_sync(drain)()
    async_to_sync(layer.group_discard)(group, channel)


def test_each_change_is_published_once_as_a_status_message(
    world: World, published: Callable[[], list[dict[str, Any]]]
) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    # Read once (channels_redis binds a channel's queue to the first event loop that reads it).
    messages = [m for m in published() if m["type"] == "status"]
    assert {m["handler"] for m in messages} == {events.STATUS}
    # Ending queues the notes (run at once in tests): processing, then ready.
    assert [m["status"] for m in messages] == ["live", "ended", "processing", "ready"]
    world.lecture.refresh_from_db()
    assert world.lecture.status == Lecture.Status.READY


def test_a_change_that_rolls_back_tells_no_one(
    world: World, published: Callable[[], list[dict[str, Any]]]
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.change_status(world.lecture.pk, Lecture.Status.LIVE)
        raise RuntimeError("the request failed after the change")
    assert published() == []
    world.lecture.refresh_from_db()
    assert world.lecture.status == Lecture.Status.SCHEDULED


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Lecture.Status.SCHEDULED, Lecture.Status.READY),
        (Lecture.Status.LIVE, Lecture.Status.PROCESSING),
        (Lecture.Status.READY, Lecture.Status.SCHEDULED),
        (Lecture.Status.ENDED, Lecture.Status.READY),
    ],
)
def test_a_move_outside_the_table_is_refused_and_changes_nothing(
    world: World, published: Callable[[], list[dict[str, Any]]], start: str, to: str
) -> None:
    Lecture.objects.filter(pk=world.lecture.pk).update(status=start)
    with pytest.raises(lifecycle.InvalidTransition) as refused:
        lifecycle.change_status(world.lecture.pk, to)
    assert refused.value.code == "invalid_state"
    world.lecture.refresh_from_db()
    assert world.lecture.status == start
    assert published() == []


def test_every_status_has_its_moves_and_live_only_ends() -> None:
    assert set(lifecycle.TRANSITIONS) == set(Lecture.Status)
    assert lifecycle.TRANSITIONS[Lecture.Status.LIVE] == {Lecture.Status.ENDED}
    # Live again only from scheduled, or a finished lecture resumed after an end by mistake
    # (lectures.services.lecture_resume checks the time window and that it was held live).
    resumable = {Lecture.Status.ENDED, Lecture.Status.PROCESSING}
    resumable |= {Lecture.Status.READY, Lecture.Status.FAILED, Lecture.Status.SCHEDULED}
    assert all(
        Lecture.Status.LIVE not in moves or start in resumable
        for start, moves in lifecycle.TRANSITIONS.items()
    )
