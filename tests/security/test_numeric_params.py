"""Huge or malformed numbers in query strings, paths and forms answer 400, 404 or a clamped
page, never 500 (issue 15, item 6: `?page=` with 40 digits gave `bigint out of range`)."""

import pytest
from django.urls import reverse

from lectures.params import MAX_ID, MAX_PAGE, parse_id, parse_page
from tests.conftest import World, client_for

HUGE = "1" * 40  # past bigint
VERY = "9" * 5000  # past Python's 4,300-digit int() limit
JUST_PAST = str(MAX_ID + 1)

CASES = [
    (f"/search/?q=수업&page={HUGE}", 200),  # clamped: an empty page past the last one
    (f"/search/?q=수업&page={VERY}", 200),
    ("/search/?q=수업&page=-3", 200),
    (f"/search/?q=수업&course={HUGE}", 400),  # the form says it is not a course of yours
    (f"/api/search/?q=수업&page={HUGE}", 400),
    (f"/api/search/?q=수업&page={VERY}", 400),
    (f"/api/search/?q=수업&page={MAX_PAGE}", 200),
    (f"/api/search/?q=수업&course={HUGE}", 400),
    (f"/api/search/?q=수업&course={JUST_PAST}", 400),
    (f"/api/search/?q=수업&page_size={HUGE}", 400),
    (f"/api/lectures/?course={HUGE}", 400),
    (f"/api/lectures/?course={VERY}", 400),
    (f"/api/lectures/?course={MAX_ID}", 200),
    (f"/api/lectures/?page={HUGE}", 404),  # DRF: "Invalid page."
    (f"/api/courses/?page={VERY}", 404),
    (f"/api/lectures/{HUGE}/", 404),
    (f"/lectures/{HUGE}/", 404),
    (f"/lectures/{VERY}/", 404),
]


@pytest.mark.parametrize(("url", "status"), CASES)
def test_huge_numbers_never_reach_the_database(world: World, url: str, status: int) -> None:
    assert client_for(world.staff).get(url).status_code == status


def test_a_huge_caption_seq_is_not_found(world: World) -> None:
    base = f"/api/lectures/{world.lecture.pk}/captions"
    client = client_for(world.staff)
    assert client.get(f"{base}/{VERY}/revisions/").status_code == 404
    patch = client.patch(f"{base}/{HUGE}/", {"text": "x"}, content_type="application/json")
    assert patch.status_code == 404


def test_removing_a_captioner_with_a_huge_id_is_refused_politely(world: World) -> None:
    url = reverse("course_captioners", args=[world.course.pk])
    response = client_for(world.instructor).post(url, {"remove": VERY})
    assert response.status_code == 302


def test_the_parsers_bound_what_they_return() -> None:
    assert parse_id("42") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    for bad in (None, "", "0", "-1", "1.5", "٣", JUST_PAST, HUGE, VERY):
        assert parse_id(bad) is None, bad
    assert parse_page("3") == 3
    assert parse_page(HUGE) == MAX_PAGE
    assert parse_page(VERY) == MAX_PAGE
    for bad in (None, "", "0", "-2", "x", "٣"):
        assert parse_page(bad) == 1
