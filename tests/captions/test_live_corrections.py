"""A correction made while the lecture is live reaches every viewer at once."""

import pytest
from channels.db import database_sync_to_async

from captions.services import segment_correct
from lectures.models import Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def go_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.save()


async def test_viewers_get_the_corrected_text_and_late_joiners_only_see_it(
    world: World, sockets: list[Socket]
) -> None:
    await database_sync_to_async(go_live)(world.lecture)
    viewer = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(viewer)
    await viewer.receive()
    await database_sync_to_async(segment_correct)(
        lecture_id=world.lecture.pk, seq=1, by=world.instructor, text="수업을 바로 시작합니다."
    )
    assert await viewer.receive_until("edit") == {
        "type": "edit",
        "seq": 1,
        "text": "수업을 바로 시작합니다.",
    }
    late = await Socket(viewer_path(world.lecture.pk), world.staff).open()
    sockets.append(late)
    assert (await late.receive())["finals"][0]["text"] == "수업을 바로 시작합니다."
