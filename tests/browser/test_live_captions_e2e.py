"""End to end in real Chromium: the instructor's microphone (a WAV file fed to Chromium's fake
capture device) to a student's screen, through a real Daphne server."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Playwright, expect

from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from ml.error_rates import word_error_rate
from tests.browser.conftest import launch_with_microphone, logged_in_page, microphone_wav
from tests.conftest import PASSWORD, World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_with_microphone(playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    """The lecture audio, then 3 s of silence (so captions become final before it loops)."""
    pcm = spoken_pcm16(ENGLISH_TEXT, "en-us", tmp_path, then_silence_s=3.0)
    chromium = launch_with_microphone(playwright, microphone_wav(tmp_path / "microphone.wav", pcm))
    yield chromium
    chromium.close()


def test_the_instructors_words_appear_on_the_students_screen(
    world: World, browser_with_microphone: Browser
) -> None:
    world.course.language = "en"  # the microphone speaks English
    world.course.save()
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    world.lecture.save()
    with daphne_server() as base_url:
        student = logged_in_page(
            browser_with_microphone, base_url, world.student.username, PASSWORD, locale="en-US"
        )
        student.goto(f"{base_url}/lectures/{world.lecture.pk}/live/")
        expect(student.locator("#live-state")).to_have_attribute("data-state", "live")
        expect(student.locator("#finals li")).to_have_count(1)  # the caption stored earlier

        instructor = logged_in_page(
            browser_with_microphone, base_url, world.instructor.username, PASSWORD, locale="en-US"
        )
        instructor.goto(f"{base_url}/lectures/{world.lecture.pk}/broadcast/")
        instructor.click("#start-broadcast")
        expect(instructor.locator("#connection-state")).to_have_attribute(
            "data-state", "live", timeout=30_000
        )
        # The spoken sentences arrive as final captions on the student's page.
        expect(student.locator("#finals")).to_contain_text("any time", timeout=60_000)
        captions = student.locator("#finals li").all_inner_texts()[1:]
        last = next(i for i, caption in enumerate(captions) if "any time" in caption)
        first_pass = " ".join(captions[: last + 1])  # the WAV loops: score its first playing
        assert word_error_rate(ENGLISH_TEXT, first_pass) < 0.25, captions
        assert instructor.locator("#own-finals li").count() >= 1  # the instructor sees them too
        instructor.click("#stop-broadcast")
        expect(instructor.locator("#connection-state")).to_have_attribute("data-state", "stopped")


def test_a_students_caption_settings_apply_at_once_and_are_remembered(
    world: World, browser: Browser
) -> None:
    with daphne_server() as base_url:
        page = logged_in_page(browser, base_url, world.student.username, PASSWORD)
        page.goto(f"{base_url}/lectures/{world.lecture.pk}/live/")
        expect(page.locator("#finals li")).to_have_count(1)
        expect(page.locator("#jump-latest")).to_be_hidden()  # nothing below to jump to
        page.click("#caption-settings-toggle")
        with page.expect_response(lambda r: "caption-preferences" in r.url and r.ok):
            page.select_option("#pref-theme", "yellow")
        view = page.locator("#caption-view")
        expect(view).to_have_attribute("data-theme", "yellow")
        with page.expect_response(lambda r: "caption-preferences" in r.url and r.ok):
            page.select_option("#pref-position", "bottom")
        page.reload()
        expect(view).to_have_attribute("data-theme", "yellow")
        expect(view).to_have_attribute("data-position", "bottom")
        color = view.evaluate("el => getComputedStyle(el).color")
        assert color == "rgb(255, 235, 59)"  # yellow on black
    world.student.refresh_from_db()
    assert world.student.caption_preferences["position"] == "bottom"
