"""Staff manage users, courses, enrolments, lectures and captions in the admin."""

import pytest
from django.urls import reverse

from lectures.models import Course
from tests.conftest import World, client_for

CHANGELISTS = [
    "admin:accounts_user_changelist",
    "admin:lectures_course_changelist",
    "admin:lectures_enrollment_changelist",
    "admin:lectures_lecture_changelist",
    "admin:captions_transcriptsegment_changelist",
]


@pytest.mark.parametrize("url_name", CHANGELISTS)
def test_staff_open_and_search_every_list(world: World, url_name: str) -> None:
    client = client_for(world.staff)
    assert client.get(reverse(url_name)).status_code == 200
    assert client.get(reverse(url_name), {"q": "AI101"}).status_code == 200


def test_the_course_list_shows_instructors_and_student_counts(world: World) -> None:
    html = client_for(world.staff).get(reverse("admin:lectures_course_changelist")).content
    text = html.decode()
    assert "ins_a" in text
    assert world.course.join_code in text


def test_the_course_page_has_enrolment_and_lecture_inlines(world: World) -> None:
    url = reverse("admin:lectures_course_change", args=[world.course.pk])
    text = client_for(world.staff).get(url).content.decode()
    assert "enrollments-TOTAL_FORMS" in text
    assert "lectures-TOTAL_FORMS" in text


def test_the_admin_action_regenerates_join_codes(world: World) -> None:
    before = {c.pk: c.join_code for c in Course.objects.all()}
    response = client_for(world.staff).post(
        reverse("admin:lectures_course_changelist"),
        {"action": "regenerate_join_codes", "_selected_action": list(before)},
        follow=True,
    )
    assert "2 join codes regenerated" in response.content.decode()
    after = {c.pk: c.join_code for c in Course.objects.all()}
    assert all(after[pk] != before[pk] for pk in before)


def test_staff_filter_lectures_by_status(world: World) -> None:
    url = reverse("admin:lectures_lecture_changelist")
    text = client_for(world.staff).get(url, {"status__exact": "scheduled"}).content.decode()
    assert world.lecture.title in text
