"""The broadcast page's viewer count: students watching, counted over real sockets."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from lectures.models import Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db(transaction=True)


def viewers(world: World) -> int:
    response = client_for(world.instructor).get(f"/api/lectures/{world.lecture.pk}/viewers/")
    assert response.status_code == 200
    count: int = response.json()["viewers"]
    return count


async def test_students_watching_are_counted_and_instructors_are_not(
    world: World, sockets: list[Socket]
) -> None:
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    await sync_to_async(world.lecture.save)()
    assert await sync_to_async(viewers)(world) == 0
    student = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(student)
    await student.receive_until("snapshot")
    instructor = await Socket(viewer_path(world.lecture.pk), world.instructor).open()
    sockets.append(instructor)
    await instructor.receive_until("snapshot")
    assert await sync_to_async(viewers)(world) == 1
    await student.close()
    assert await sync_to_async(viewers)(world) == 0
