"""Forms refuse posts without the CSRF token; the same posts with the token go through."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, World, client_for


@pytest.mark.parametrize(
    "url_name",
    ["dashboard", "course_regenerate_code", "lecture_create", "lecture_start", "logout"],
)
def test_a_form_post_without_the_csrf_token_is_refused(world: World, url_name: str) -> None:
    args = {
        "course_regenerate_code": [world.course.pk],
        "lecture_create": [world.course.pk],
        "lecture_start": [world.lecture.pk],
    }.get(url_name, [])
    client = client_for(world.instructor, csrf=True)
    response = client.post(reverse(url_name, args=args), {"join_code": "X"})
    assert response.status_code == 403
    world.lecture.refresh_from_db()
    assert world.lecture.status == "scheduled"


def test_the_login_form_needs_its_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    refused = client.post(reverse("login"), {"username": "stu_a", "password": PASSWORD})
    assert refused.status_code == 403
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        reverse("login"),
        {"username": "stu_a", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302


def test_the_api_with_a_session_needs_the_csrf_header_for_writes(world: World) -> None:
    client = client_for(world.instructor, csrf=True)
    refused = client.post(f"/api/lectures/{world.lecture.pk}/start/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
