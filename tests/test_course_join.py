import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lectures.models import Enrollment
from lectures.services import course_join
from tests.conftest import World, client_for, make_user


def test_a_student_joins_with_the_code_typed_in_any_case_with_dashes(world: World) -> None:
    newcomer = make_user("newcomer")
    code = world.course.join_code
    enrollment = course_join(user=newcomer, join_code=f" {code[:4].lower()}-{code[4:]} ")
    assert enrollment.course == world.course


def test_joining_twice_keeps_one_enrolment(world: World) -> None:
    course_join(user=world.student, join_code=world.course.join_code)
    assert Enrollment.objects.filter(course=world.course, student=world.student).count() == 1


def test_a_wrong_code_is_refused_with_a_message_that_says_what_to_check(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        course_join(user=world.student, join_code="ZZZZZZZZ")
    assert "No course has the join code “ZZZZZZZZ”" in refused.value.messages[0]
    assert "instructor" in refused.value.messages[0]


def test_a_code_of_the_wrong_length_says_how_long_codes_are(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        course_join(user=world.student, join_code="ABC")
    assert "8 characters" in refused.value.messages[0]


def test_an_instructor_cannot_enrol_in_their_own_course(world: World) -> None:
    with pytest.raises(ValidationError, match="already teach"):
        course_join(user=world.instructor, join_code=world.course.join_code)


def test_the_dashboard_form_joins_and_opens_the_course(world: World) -> None:
    newcomer = make_user("newcomer")
    response = client_for(newcomer).post(
        reverse("dashboard"), {"join_code": world.course.join_code}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("course_detail", args=[world.course.pk])


def test_the_dashboard_form_shows_a_wrong_code_next_to_the_field(world: World) -> None:
    response = client_for(world.student).post(reverse("dashboard"), {"join_code": "WRONG123"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "No course has the join code" in body
    assert 'role="alert"' in body
    assert not Enrollment.objects.filter(student=world.student, course=world.other_course).exists()


def test_the_api_refuses_a_wrong_code_with_a_clear_400(world: World) -> None:
    response = client_for(world.student).post(
        "/api/enrollments/", {"join_code": "WRONG123"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_code"
    assert "No course has the join code" in response.json()["detail"][0]


def test_the_api_joins_with_a_right_code(world: World) -> None:
    newcomer = make_user("newcomer")
    response = client_for(newcomer).post(
        "/api/enrollments/",
        {"join_code": world.other_course.join_code},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["course"] == world.other_course.pk


def test_a_regenerated_code_replaces_the_old_one_and_keeps_students(world: World) -> None:
    old_code = world.course.join_code
    client_for(world.instructor).post(reverse("course_regenerate_code", args=[world.course.pk]))
    world.course.refresh_from_db()
    assert world.course.join_code != old_code
    with pytest.raises(ValidationError):
        course_join(user=make_user("late"), join_code=old_code)
    assert Enrollment.objects.filter(course=world.course, student=world.student).exists()
