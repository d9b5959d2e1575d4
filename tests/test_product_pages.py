"""Pages a user meets around the product: branded error pages (never Django's debug page), the
landing page, password reset by e-mail, names in the order of the interface's language."""

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error
from pytest_django import Settings

from accounts.forms import SignUpForm
from accounts.models import full_name
from tests.conftest import World, client_for


@pytest.fixture
def korean(settings: Settings) -> Settings:
    settings.LANGUAGE_CODE = "ko"
    return settings


def test_a_lecture_of_a_course_not_joined_answers_a_helpful_404(world: World) -> None:
    response = client_for(world.other_student).get(
        reverse("lecture_detail", args=[world.lecture.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body and "Join a course" in body
    assert "Traceback" not in body and "URLconf" not in body


def test_the_404_page_is_korean_in_the_korean_interface(korean: Settings, world: World) -> None:
    response = client_for(world.other_student).get(
        reverse("lecture_detail", args=[world.lecture.pk]), HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert "페이지를 찾을 수 없습니다" in response.content.decode()


def test_a_student_refused_an_instructors_page_gets_the_403_page(world: World) -> None:
    response = client_for(world.student).get(reverse("lecture_broadcast", args=[world.lecture.pk]))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_the_500_page_renders_without_a_request_context() -> None:
    request = RequestFactory().get("/")
    with translation.override("ko"):
        response = server_error(request)
    assert response.status_code == 500
    assert "문제가 생겼습니다" in response.content.decode()


@pytest.mark.django_db
def test_the_root_tells_a_visitor_what_hearus_is() -> None:
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Live captions for deaf and hard-of-hearing students" in body
    assert reverse("signup") in body


def test_a_signed_in_visitor_goes_from_the_root_to_their_courses(world: World) -> None:
    assert client_for(world.student).get("/")["Location"] == reverse("dashboard")


def test_a_forgotten_password_is_reset_through_an_emailed_link(world: World) -> None:
    world.student.email = "stu@example.com"
    world.student.save()
    client = Client()
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("password_reset"), {"email": "stu@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get(f"/{path}", follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    world.student.refresh_from_db()
    assert world.student.check_password("a-new-long-passphrase")


@pytest.mark.parametrize(
    ("first", "last", "language", "shown"),
    [
        ("민수", "김", "en", "김민수"),
        ("민수", "김", "ko", "김민수"),
        ("John", "Smith", "en", "John Smith"),
        ("John", "Smith", "ko", "Smith John"),
        ("", "김", "ko", "김"),
    ],
)
def test_names_follow_the_korean_order_where_korean_is_written(
    first: str, last: str, language: str, shown: str
) -> None:
    assert full_name(first, last, language=language) == shown


def test_the_header_and_course_list_show_korean_names_family_name_first(world: World) -> None:
    world.instructor.first_name, world.instructor.last_name = "민수", "김"
    world.instructor.save()
    body = client_for(world.instructor).get(reverse("dashboard")).content.decode()
    assert "김민수" in body and "민수 김" not in body


def test_korean_sign_up_asks_the_family_name_first() -> None:
    with translation.override("ko"):
        order = list(SignUpForm().fields)
    assert order.index("last_name") < order.index("first_name")
    with translation.override("en"):
        order = list(SignUpForm().fields)
    assert order.index("first_name") < order.index("last_name")
