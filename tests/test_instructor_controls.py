"""The instructor's controls: ending asks first and can be undone for a while, one click starts
and broadcasts, the course's vocabulary is edited on the course page."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from classroom.notes import process_lecture
from lectures.models import Lecture
from lectures.services import (
    RESUME_WINDOW,
    course_vocabulary_set,
    lecture_can_resume,
    lecture_end,
    lecture_resume,
    lecture_start,
)
from tests.conftest import World, client_for


def test_end_lecture_asks_first_and_a_get_changes_nothing(world: World) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    url = reverse("lecture_end", args=[world.lecture.pk])
    response = client_for(world.instructor).get(url)
    assert response.status_code == 200
    assert "End the lecture?" in response.content.decode()
    world.lecture.refresh_from_db()
    assert world.lecture.is_live
    client_for(world.instructor).post(url)
    world.lecture.refresh_from_db()
    assert world.lecture.status != Lecture.Status.LIVE


def test_a_lecture_ended_by_mistake_is_resumed_and_its_captions_go_on(world: World) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    world.lecture.refresh_from_db()
    assert lecture_can_resume(world.lecture)
    page = client_for(world.instructor).get(reverse("lecture_detail", args=[world.lecture.pk]))
    assert 'id="resume-lecture"' in page.content.decode()
    lecture_resume(lecture=world.lecture, by=world.instructor)
    world.lecture.refresh_from_db()
    assert world.lecture.is_live and world.lecture.ended_at is None
    assert world.lecture.segments.count() == 1


def test_a_notes_run_under_way_stands_down_when_the_lecture_is_resumed(world: World) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    lecture_resume(lecture=world.lecture, by=world.instructor)
    assert process_lecture(world.lecture.pk) == Lecture.Status.LIVE
    world.lecture.refresh_from_db()
    assert world.lecture.is_live


def test_resuming_is_refused_after_the_window_or_for_a_never_started_lecture(
    world: World,
) -> None:
    with pytest.raises(ValidationError):
        lecture_resume(lecture=world.lecture, by=world.instructor)  # scheduled
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    Lecture.objects.filter(pk=world.lecture.pk).update(
        ended_at=timezone.now() - RESUME_WINDOW - timedelta(seconds=1)
    )
    world.lecture.refresh_from_db()
    assert not lecture_can_resume(world.lecture)
    with pytest.raises(ValidationError):
        lecture_resume(lecture=world.lecture, by=world.instructor)


def test_a_student_cannot_resume_a_lecture(world: World) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    with pytest.raises(PermissionDenied):
        lecture_resume(lecture=world.lecture, by=world.student)


def test_start_and_broadcast_goes_live_and_on_to_the_broadcast_page(world: World) -> None:
    response = client_for(world.instructor).post(
        reverse("lecture_start", args=[world.lecture.pk]), {"then": "broadcast"}
    )
    assert response["Location"] == reverse("lecture_broadcast", args=[world.lecture.pk]) + (
        "?start=1"
    )
    world.lecture.refresh_from_db()
    assert world.lecture.is_live


def test_the_course_vocabulary_is_saved_from_the_course_page(world: World) -> None:
    client = client_for(world.instructor)
    response = client.post(
        reverse("course_vocabulary", args=[world.course.pk]),
        {"vocabulary": "역전파, gradient descent\n역전파\n  인공   신경망 "},
        follow=True,
    )
    assert "The vocabulary was saved." in response.content.decode()
    world.course.refresh_from_db()
    assert world.course.vocabulary_terms() == ["역전파", "gradient descent", "인공 신경망"]


def test_a_vocabulary_too_long_is_refused_with_a_reason(world: World) -> None:
    with pytest.raises(ValidationError):
        course_vocabulary_set(course=world.course, by=world.instructor, vocabulary="가" * 61)
    with pytest.raises(ValidationError):
        course_vocabulary_set(
            course=world.course,
            by=world.instructor,
            vocabulary="\n".join(f"term{i}" for i in range(201)),
        )


def test_a_student_cannot_change_the_vocabulary(world: World) -> None:
    response = client_for(world.student).post(
        reverse("course_vocabulary", args=[world.course.pk]), {"vocabulary": "x"}
    )
    assert response.status_code == 403
    world.course.refresh_from_db()
    assert world.course.vocabulary == ""


def test_live_lectures_are_listed_for_the_dashboards_poll(world: World) -> None:
    client = client_for(world.student)
    assert client.get("/api/lectures/?status=live").json()["results"] == []
    lecture_start(lecture=world.lecture, by=world.instructor)
    results = client.get("/api/lectures/?status=live").json()["results"]
    assert [lecture["id"] for lecture in results] == [world.lecture.pk]
    assert client.get("/api/lectures/?status=nonsense").status_code == 400


def test_a_recording_being_transcribed_is_described_truthfully(world: World) -> None:
    lecture = world.lecture
    lecture.segments.all().delete()
    Lecture.objects.filter(pk=lecture.pk).update(
        status=Lecture.Status.PROCESSING, recording="recordings/2030/03/week1.m4a"
    )
    body = client_for(world.instructor).get(reverse("lecture_detail", args=[lecture.pk]))
    text = body.content.decode()
    assert "The recording is being transcribed." in text
    assert "The transcript appears here once the recording is transcribed." in text
    assert "The summary and keywords are being prepared" not in text  # not yet: at 0 %
    assert "No captions were recorded" not in text
    assert "This lecture has ended." not in text  # it was never held live


def test_lecture_cards_show_the_date_a_lecture_was_held(world: World) -> None:
    held = timezone.now() - timedelta(days=3)
    Lecture.objects.filter(pk=world.lecture.pk).update(
        status=Lecture.Status.READY, started_at=held, ended_at=held + timedelta(hours=1)
    )
    body = client_for(world.student).get(reverse("course_detail", args=[world.course.pk]))
    assert timezone.localtime(held).strftime("%Y-%m-%d %H:%M") in body.content.decode()
