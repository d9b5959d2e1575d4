"""Correcting captions: who may, the history, validation, the API, and recomputed notes."""

import pytest
from django.urls import reverse

from captions.models import SegmentRevision, TranscriptSegment
from captions.services import segment_correct
from lectures.models import Keyword, Lecture
from tests.conftest import World, client_for, make_user

pytestmark = pytest.mark.django_db


def edit_url(world: World, seq: int = 1) -> str:
    return reverse("caption_correct", args=[world.lecture.pk, seq])


def test_the_instructor_corrects_a_caption_and_the_original_stays_in_the_history(
    world: World,
) -> None:
    client = client_for(world.instructor)
    assert "수업을 시작하겠습니다." in client.get(edit_url(world)).content.decode()
    response = client.post(edit_url(world), {"text": "  수업을   시작하겠습니다!  "})
    assert response.status_code == 302
    assert response["Location"].endswith("?correct=1#seg-1")
    segment = TranscriptSegment.objects.get(lecture=world.lecture, seq=1)
    assert segment.text == "수업을 시작하겠습니다!"
    assert segment.edited_at is not None
    (revision,) = SegmentRevision.objects.filter(segment=segment)
    assert revision.previous_text == "수업을 시작하겠습니다."
    assert revision.edited_by == world.instructor
    world.lecture.refresh_from_db()
    assert world.lecture.transcript_revision == 1
    history = client.get(edit_url(world)).content.decode()
    assert "<del>수업을 시작하겠습니다.</del>" in history


def test_a_named_captioner_sees_the_course_and_corrects(world: World) -> None:
    captioner = make_user("captioner1")
    assert client_for(captioner).get(edit_url(world)).status_code == 404  # not named yet
    course_url = reverse("course_captioners", args=[world.course.pk])
    client_for(world.instructor).post(course_url, {"username": "CAPTIONER1"})
    assert list(world.course.captioners.all()) == [captioner]

    client = client_for(captioner)
    assert client.get(reverse("lecture_detail", args=[world.lecture.pk])).status_code == 200
    assert client.post(edit_url(world), {"text": "고친 자막"}).status_code == 302
    assert TranscriptSegment.objects.get(lecture=world.lecture, seq=1).text == "고친 자막"

    client_for(world.instructor).post(course_url, {"remove": str(captioner.pk)})
    assert client.get(edit_url(world)).status_code == 404


def test_a_student_cannot_name_captioners_and_an_unknown_name_is_explained(
    world: World,
) -> None:
    course_url = reverse("course_captioners", args=[world.course.pk])
    assert client_for(world.student).post(course_url, {"username": "stu_a"}).status_code == 403
    response = client_for(world.instructor).post(course_url, {"username": "nobody"}, follow=True)
    assert "No active user is called nobody." in response.content.decode()
    assert not world.course.captioners.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("student", 403), ("other_student", 404), ("other_instructor", 404), ("staff", 200)],
)
def test_who_may_open_the_correction_page(world: World, role: str, status: int) -> None:
    assert client_for(world.user(role)).get(edit_url(world)).status_code == status


@pytest.mark.parametrize(("text", "error"), [("   ", "required"), ("가" * 2001, "at most")])
def test_an_empty_or_overlong_correction_is_refused_and_nothing_changes(
    world: World, text: str, error: str
) -> None:
    response = client_for(world.instructor).post(edit_url(world), {"text": text})
    assert response.status_code == 400
    assert error in response.content.decode().lower() or "2000" in response.content.decode()
    assert (
        TranscriptSegment.objects.get(lecture=world.lecture, seq=1).text == "수업을 시작하겠습니다."
    )
    assert not SegmentRevision.objects.exists()


def test_an_unchanged_text_records_no_revision(world: World) -> None:
    segment_correct(
        lecture_id=world.lecture.pk, seq=1, by=world.instructor, text="수업을 시작하겠습니다."
    )
    assert not SegmentRevision.objects.exists()


def test_the_api_corrects_and_lists_the_history(world: World) -> None:
    url = f"/api/lectures/{world.lecture.pk}/captions/1/"
    client = client_for(world.instructor)
    response = client.patch(url, {"text": "API로 고침"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "API로 고침"
    history = client.get(url + "revisions/").json()
    assert history[0]["previous_text"] == "수업을 시작하겠습니다."
    assert history[0]["edited_by"] == "ins_a"
    student = client_for(world.student)
    assert student.patch(url, {"text": "x"}, content_type="application/json").status_code == 403
    assert student.get(url + "revisions/").status_code == 200
    missing = f"/api/lectures/{world.lecture.pk}/captions/99/"
    assert client.patch(missing, {"text": "x"}, content_type="application/json").status_code == 404
    empty = client.patch(url, {"text": " "}, content_type="application/json")
    assert empty.status_code == 400
    outsider = client_for(world.other_instructor)
    assert outsider.get(url + "revisions/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_correction_after_the_lecture_recomputes_its_notes(world: World) -> None:
    lecture = world.lecture
    lecture.segments.all().delete()
    for seq, text in enumerate(
        ["신경망을 배웁니다.", "신경망은 층으로 되어 있습니다.", "역전파"], 1
    ):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=seq, start_ms=seq * 1000, end_ms=seq * 1000 + 900, text=text
        )
    lecture.status = Lecture.Status.READY
    lecture.save()
    segment_correct(lecture_id=lecture.pk, seq=3, by=world.instructor, text="역전파와 기울기")
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY, lecture.failure_reason
    terms = set(Keyword.objects.filter(lecture=lecture).values_list("term", flat=True))
    assert {"신경망", "역전파", "기울기"} <= terms
    assert TranscriptSegment.objects.get(lecture=lecture, seq=3).search_terms != ""
