"""While a lecture is live, keywords are refreshed every LIVE_KEYWORDS_EVERY captions and pushed."""

import pytest
from channels.db import database_sync_to_async
from pytest_django import Settings

from captions.services import segment_append
from hearus_testkit.texts import LECTURE
from lectures.models import Keyword, Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def go_live(lecture: Lecture) -> None:
    lecture.segments.all().delete()  # start from the first caption
    lecture.status = Lecture.Status.LIVE
    lecture.save()


async def say(lecture: Lecture, lines: list[str], first: int = 0) -> None:
    for i, line in enumerate(lines, first):
        await database_sync_to_async(segment_append)(
            lecture_id=lecture.pk, start_ms=i * 4000, end_ms=i * 4000 + 3500, text=line
        )


async def test_viewers_get_fresh_keywords_every_few_captions(
    world: World, sockets: list[Socket], settings: Settings
) -> None:
    settings.LIVE_KEYWORDS_EVERY = 8
    lecture = world.lecture
    await database_sync_to_async(go_live)(lecture)
    viewer = await Socket(viewer_path(lecture.pk), world.student).open()
    sockets.append(viewer)
    assert (await viewer.receive())["keywords"] == []

    await say(lecture, LECTURE[:8])
    message = await viewer.receive_until("keywords")
    terms = [k["term"] for k in message["keywords"]]
    assert "신경망" in terms
    assert all(set(k) == {"term", "score", "count"} for k in message["keywords"])

    await say(lecture, LECTURE[8:15], first=8)  # 15 captions: no refresh yet
    await lecture.arefresh_from_db()
    assert lecture.notes_through_seq == 8
    await say(lecture, LECTURE[15:16], first=15)  # the 16th: refresh
    message = await viewer.receive_until("keywords")
    await lecture.arefresh_from_db()
    assert lecture.notes_through_seq == 16
    assert await Keyword.objects.filter(lecture=lecture).acount() == len(message["keywords"])

    # A viewer who joins now gets the current keywords in the snapshot.
    late_viewer = await Socket(viewer_path(lecture.pk), world.staff).open()
    sockets.append(late_viewer)
    snapshot = await late_viewer.receive()
    assert [k["term"] for k in snapshot["keywords"]] == [k["term"] for k in message["keywords"]]
