"""Merging a sentence that recognition split in two (one caption, history kept, viewers told),
and splitting a caption that holds two."""

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from captions.models import SegmentRevision, TranscriptSegment
from captions.services import segment_correct, segment_merge, segment_split
from lectures.models import Lecture
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db(transaction=True)


def split_sentence(lecture: Lecture) -> None:
    lecture.segments.all().delete()
    for seq, (start, end, text) in enumerate(
        [
            (0, 1500, "We are met on a great"),
            (1600, 3000, "battlefield of that war."),
            (3100, 4000, "End."),
        ],
        1,
    ):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=seq, start_ms=start, end_ms=end, text=text
        )
    lecture.status = Lecture.Status.LIVE
    lecture.save()


def test_two_captions_become_one_and_both_originals_stay_in_its_history(world: World) -> None:
    split_sentence(world.lecture)
    segment_correct(
        lecture_id=world.lecture.pk, seq=2, by=world.instructor, text="battlefield of that war!"
    )
    merged = segment_merge(lecture_id=world.lecture.pk, seq=1, by=world.instructor)
    assert merged.text == "We are met on a great battlefield of that war!"
    assert (merged.start_ms, merged.end_ms) == (0, 3000)
    assert list(world.lecture.segments.values_list("seq", flat=True)) == [1, 3]
    history = set(
        SegmentRevision.objects.filter(segment=merged).values_list("previous_text", flat=True)
    )
    assert history == {
        "We are met on a great",
        "battlefield of that war.",
        "battlefield of that war!",
    }


def test_the_last_caption_has_nothing_to_merge_with(world: World) -> None:
    split_sentence(world.lecture)
    with pytest.raises(TranscriptSegment.DoesNotExist):
        segment_merge(lecture_id=world.lecture.pk, seq=3, by=world.instructor)


def test_a_student_cannot_merge_captions(world: World) -> None:
    split_sentence(world.lecture)
    with pytest.raises(PermissionDenied):
        segment_merge(lecture_id=world.lecture.pk, seq=1, by=world.student)


def test_the_correction_page_merges_and_returns_to_the_caption(world: World) -> None:
    split_sentence(world.lecture)
    client = client_for(world.instructor)
    page = client.get(reverse("caption_correct", args=[world.lecture.pk, 1])).content.decode()
    assert "Merge with the next caption" in page
    response = client.post(reverse("caption_merge", args=[world.lecture.pk, 1]))
    assert response["Location"].endswith("?correct=1#seg-1")
    assert (
        world.lecture.segments.get(seq=1).text == "We are met on a great battlefield of that war."
    )


async def test_viewers_get_the_joined_text_and_lose_the_second_caption(
    world: World, sockets: list[Socket]
) -> None:
    await database_sync_to_async(split_sentence)(world.lecture)
    viewer = await Socket(viewer_path(world.lecture.pk), world.student).open()
    sockets.append(viewer)
    await viewer.receive_until("snapshot")
    await database_sync_to_async(segment_merge)(
        lecture_id=world.lecture.pk, seq=1, by=world.instructor
    )
    assert await viewer.receive_until("edit") == {
        "type": "edit",
        "seq": 1,
        "text": "We are met on a great battlefield of that war.",
    }
    assert await viewer.receive_until("remove") == {"type": "remove", "seq": 2, "merged_into": 1}


def finished(lecture: Lecture) -> None:
    split_sentence(lecture)
    lecture.status = Lecture.Status.READY
    lecture.save()


def test_a_caption_is_split_in_two_and_the_captions_after_it_move_up(world: World) -> None:
    finished(world.lecture)
    first, second = segment_split(
        lecture_id=world.lecture.pk,
        seq=2,
        by=world.instructor,
        first="battlefield",
        second="of that war.",
    )
    rows = list(world.lecture.segments.order_by("seq").values_list("seq", "text"))
    assert rows == [
        (1, "We are met on a great"),
        (2, "battlefield"),
        (3, "of that war."),
        (4, "End."),
    ]
    assert first.start_ms == 1600 and second.end_ms == 3000
    assert first.end_ms == second.start_ms and 1600 < first.end_ms < 3000
    originals = SegmentRevision.objects.filter(segment__lecture=world.lecture)
    assert set(originals.values_list("previous_text", flat=True)) == {"battlefield of that war."}


def test_splitting_waits_for_the_end_of_the_lecture_and_needs_two_parts(world: World) -> None:
    split_sentence(world.lecture)  # live
    with pytest.raises(ValidationError):
        segment_split(
            lecture_id=world.lecture.pk, seq=1, by=world.instructor, first="a", second="b"
        )
    finished(world.lecture)
    with pytest.raises(ValidationError):
        segment_split(
            lecture_id=world.lecture.pk, seq=1, by=world.instructor, first=" ", second="b"
        )
    with pytest.raises(PermissionDenied):
        segment_split(lecture_id=world.lecture.pk, seq=1, by=world.student, first="a", second="b")
