from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from lectures.models import Lecture
from lectures.services import lecture_create, lecture_end, lecture_start
from tests.conftest import World, client_for


def test_an_instructor_creates_a_lecture_from_the_form(world: World) -> None:
    response = client_for(world.instructor).post(
        reverse("lecture_create", args=[world.course.pk]),
        {"title": "2주차: 탐색", "scheduled_at": "2030-03-09T10:00"},
    )
    lecture = Lecture.objects.get(title="2주차: 탐색")
    assert response["Location"] == reverse("lecture_detail", args=[lecture.pk])
    assert lecture.course == world.course
    assert lecture.created_by == world.instructor
    assert lecture.status == Lecture.Status.SCHEDULED


def test_the_lecture_form_explains_a_missing_date(world: World) -> None:
    response = client_for(world.instructor).post(
        reverse("lecture_create", args=[world.course.pk]), {"title": "x", "scheduled_at": ""}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_a_blank_title_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        lecture_create(
            course=world.course, by=world.instructor, title="   ", scheduled_at=timezone.now()
        )


def test_another_instructor_cannot_create_lectures_in_this_course(world: World) -> None:
    with pytest.raises(PermissionDenied):
        lecture_create(
            course=world.course,
            by=world.other_instructor,
            title="x",
            scheduled_at=timezone.now(),
        )


def test_a_lecture_goes_scheduled_live_ended_with_timestamps(world: World) -> None:
    live = lecture_start(lecture=world.lecture, by=world.instructor)
    assert live.status == Lecture.Status.LIVE
    assert live.started_at is not None
    ended = lecture_end(lecture=live, by=world.instructor)
    assert ended.status == Lecture.Status.ENDED
    assert ended.ended_at is not None and ended.ended_at >= live.started_at


def test_a_lecture_cannot_start_twice_or_end_before_starting(world: World) -> None:
    with pytest.raises(ValidationError, match="Only a live lecture"):
        lecture_end(lecture=world.lecture, by=world.instructor)
    lecture_start(lecture=world.lecture, by=world.instructor)
    with pytest.raises(ValidationError, match="Only a scheduled lecture"):
        lecture_start(lecture=world.lecture, by=world.instructor)


def test_a_student_cannot_start_a_lecture(world: World) -> None:
    with pytest.raises(PermissionDenied):
        lecture_start(lecture=world.lecture, by=world.student)
    world.lecture.refresh_from_db()
    assert world.lecture.status == Lecture.Status.SCHEDULED


def test_ending_keeps_every_caption(world: World) -> None:
    lecture_start(lecture=world.lecture, by=world.instructor)
    lecture_end(lecture=world.lecture, by=world.instructor)
    assert list(world.lecture.segments.values_list("text", flat=True)) == ["수업을 시작하겠습니다."]


def test_the_start_button_makes_the_lecture_live_and_the_page_says_so(world: World) -> None:
    client = client_for(world.instructor)
    response = client.post(reverse("lecture_start", args=[world.lecture.pk]), follow=True)
    assert "The lecture is live." in response.content.decode()
    world.lecture.refresh_from_db()
    assert world.lecture.is_live


def test_ending_a_lecture_that_is_not_live_shows_why(world: World) -> None:
    response = client_for(world.instructor).post(
        reverse("lecture_end", args=[world.lecture.pk]), follow=True
    )
    assert "Only a live lecture can be ended" in response.content.decode()


def test_the_course_page_groups_live_upcoming_and_past_lectures(world: World) -> None:
    now = timezone.now()
    live = Lecture.objects.create(
        course=world.course, title="LIVE-ONE", scheduled_at=now, status=Lecture.Status.LIVE
    )
    past = Lecture.objects.create(
        course=world.course,
        title="PAST-ONE",
        scheduled_at=now - timedelta(days=7),
        status=Lecture.Status.ENDED,
    )
    body = client_for(world.student).get(reverse("course_detail", args=[world.course.pk]))
    html = body.content.decode()
    live_at, upcoming_at, past_at = (
        html.index("live-heading"),
        html.index("upcoming-heading"),
        html.index("past-heading"),
    )
    assert live_at < html.index(live.title) < upcoming_at
    assert upcoming_at < html.index(world.lecture.title) < past_at
    assert past_at < html.index(past.title)


def test_the_lecture_page_shows_its_transcript_with_timestamps(world: World) -> None:
    body = client_for(world.student).get(reverse("lecture_detail", args=[world.lecture.pk]))
    html = body.content.decode()
    assert "수업을 시작하겠습니다." in html
    assert "0:00" in html
