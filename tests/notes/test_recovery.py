"""Lectures whose worker died are found and finished (classroom.recovery), and an instructor may
compute the notes of one stuck in processing again; a lecture that is merely busy is left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from captions.models import TranscriptSegment
from classroom import recovery
from hearus_testkit.texts import LECTURE
from lectures.models import Lecture, Summary
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db(transaction=True)


def lecture_in(world: World, status: str, *, minutes_ago: float, captions: int = 12) -> Lecture:
    """The lecture as a dead worker left it: `status` since `minutes_ago`, no notes."""
    lecture = world.lecture
    lecture.segments.all().delete()
    for i, line in enumerate(LECTURE[:captions], 1):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=i, start_ms=i * 4000, end_ms=i * 4000 + 3500, text=line
        )
    Lecture.objects.filter(pk=lecture.pk).update(
        status=status, status_changed_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    lecture.refresh_from_db()
    return lecture


def test_notes_stuck_in_processing_are_computed_again_once(world: World) -> None:
    lecture = lecture_in(world, Lecture.Status.PROCESSING, minutes_ago=30)
    assert recovery.recover_stuck_lectures() == [(lecture.pk, "notes")]
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY, lecture.failure_reason
    assert Summary.objects.filter(lecture=lecture).count() == 1
    assert recovery.recover_stuck_lectures() == []


def test_an_ended_lecture_whose_notes_never_started_gets_them(world: World) -> None:
    lecture = lecture_in(world, Lecture.Status.ENDED, minutes_ago=60)
    assert recovery.recover_stuck_lectures() == [(lecture.pk, "notes")]
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY


@pytest.mark.parametrize(
    ("status", "minutes_ago"),
    [
        (Lecture.Status.PROCESSING, 5),  # still within the notes' time limit
        (Lecture.Status.ENDED, 5),  # the notes may be waiting in a busy queue
        (Lecture.Status.READY, 600),
        (Lecture.Status.FAILED, 600),
        (Lecture.Status.LIVE, 600),
    ],
)
def test_a_lecture_that_is_not_stuck_is_left_alone(
    world: World, status: str, minutes_ago: float
) -> None:
    lecture = lecture_in(world, status, minutes_ago=minutes_ago)
    assert recovery.recover_stuck_lectures() == []
    lecture.refresh_from_db()
    assert lecture.status == status


def test_a_silent_transcription_is_queued_again(world: World) -> None:
    """Its heartbeat stopped: the transcription runs again (here the file is gone from storage,
    so the rerun fails with a reason instead of hanging in processing for ever)."""
    lecture = lecture_in(world, Lecture.Status.PROCESSING, minutes_ago=45, captions=0)
    Lecture.objects.filter(pk=lecture.pk).update(recording="recordings/lost.wav")
    assert recovery.recover_stuck_lectures() == [(lecture.pk, "transcription")]
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    assert lecture.failure_reason


def test_the_instructor_may_reprocess_a_stuck_lecture_but_not_a_busy_one(world: World) -> None:
    lecture = lecture_in(world, Lecture.Status.PROCESSING, minutes_ago=5)
    url = f"/api/lectures/{lecture.pk}/reprocess/"
    busy = client_for(world.instructor).post(url)
    assert busy.status_code == 409 and busy.json()["code"] == "invalid_state"

    Lecture.objects.filter(pk=lecture.pk).update(
        status_changed_at=timezone.now() - timedelta(minutes=30)
    )
    assert client_for(world.instructor).post(url).status_code == 200
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY
