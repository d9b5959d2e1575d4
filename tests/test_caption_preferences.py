import pytest
from django.urls import reverse

from accounts.preferences import DEFAULT_CAPTION_PREFERENCES
from tests.conftest import World, client_for

URL = "/api/me/caption-preferences/"


def test_new_users_get_the_defaults(world: World) -> None:
    assert client_for(world.student).get(URL).json() == DEFAULT_CAPTION_PREFERENCES


def test_a_change_is_remembered_and_shown_on_the_live_page(world: World) -> None:
    client = client_for(world.student)
    response = client.patch(
        URL, {"font_scale": 2.5, "theme": "yellow"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["font_scale"] == 2.5
    world.student.refresh_from_db()
    assert world.student.caption_preferences["theme"] == "yellow"
    page = client.get(reverse("lecture_live", args=[world.lecture.pk])).content.decode()
    assert '"theme": "yellow"' in page
    assert '"font_scale": 2.5' in page


@pytest.mark.parametrize(
    "bad",
    [
        {"font_scale": 40},
        {"font_scale": "big"},
        {"line_height": True},
        {"theme": "pink"},
        {"position": "left"},
        {"highlight_keywords": "no"},
        {"colour": "red"},
        ["not", "an", "object"],
    ],
)
def test_bad_preferences_are_refused_and_nothing_changes(world: World, bad: object) -> None:
    client = client_for(world.student)
    client.patch(URL, {"theme": "dark"}, content_type="application/json")
    response = client.patch(URL, bad, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    world.student.refresh_from_db()
    assert world.student.caption_preferences["theme"] == "dark"
    assert world.student.caption_preferences["font_scale"] == 1.5


def test_a_stale_stored_value_falls_back_to_the_default(world: World) -> None:
    world.student.caption_preferences = {"theme": "neon", "font_scale": 2.0}
    world.student.save()
    prefs = client_for(world.student).get(URL).json()
    assert prefs["theme"] == "light"
    assert prefs["font_scale"] == 2.0


def test_someone_elses_preferences_cannot_be_changed(world: World) -> None:
    client_for(world.other_student).patch(URL, {"theme": "dark"}, content_type="application/json")
    world.student.refresh_from_db()
    assert world.student.caption_preferences == {}


def test_changes_sent_one_after_another_all_stay(world: World) -> None:
    client = client_for(world.student)
    client.patch(URL, {"theme": "yellow"}, content_type="application/json")
    client.patch(URL, {"position": "bottom"}, content_type="application/json")
    response = client.patch(URL, {"highlight_keywords": False}, content_type="application/json")
    assert response.status_code == 200
    world.student.refresh_from_db()
    prefs = world.student.caption_preferences
    assert (prefs["theme"], prefs["position"], prefs["highlight_keywords"]) == (
        "yellow",
        "bottom",
        False,
    )
