"""Late is visible, in real Chromium: when the server falls behind the speech, the student's live
page (and the instructor's) says "Captions are delayed by N s", and the notice goes away once the
server has caught up, while the lecture is still live.

Nothing here fakes the message: the server runs the real Whisper made slower than real time
(`hearus_testkit.slow_asgi`: each decode 4 s longer), measures its own lag and announces it.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Playwright, expect

from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from tests.browser.conftest import launch_with_microphone, logged_in_page, microphone_wav
from tests.conftest import PASSWORD, World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

# Longer than the 3 s notice threshold once a decode's own cost is added: the lag passes it
# at the first decode.
EXTRA_DECODE_S = 4.0


@pytest.fixture
def browser_with_microphone(playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    """About 10 s of speech, then 25 s of silence in which the slow server can catch up."""
    pcm = spoken_pcm16(ENGLISH_TEXT, "en-us", tmp_path, then_silence_s=25.0)
    chromium = launch_with_microphone(playwright, microphone_wav(tmp_path / "microphone.wav", pcm))
    yield chromium
    chromium.close()


def test_the_delay_notice_appears_when_the_server_falls_behind_and_clears_when_it_catches_up(
    world: World, browser_with_microphone: Browser
) -> None:
    world.course.language = "en"
    world.course.save()
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    world.lecture.save()
    slow = {"HEARUS_ASR_EXTRA_S": str(EXTRA_DECODE_S)}
    with daphne_server(slow, application="hearus_testkit.slow_asgi:application") as base_url:
        student = logged_in_page(
            browser_with_microphone, base_url, world.student.username, PASSWORD, locale="en-US"
        )
        student.goto(f"{base_url}/lectures/{world.lecture.pk}/live/")
        expect(student.locator("#live-state")).to_have_attribute("data-state", "live")
        notice = student.locator("#caption-delay")
        expect(notice).to_be_hidden()  # on time before anyone speaks

        instructor = logged_in_page(
            browser_with_microphone, base_url, world.instructor.username, PASSWORD, locale="en-US"
        )
        instructor.goto(f"{base_url}/lectures/{world.lecture.pk}/broadcast/")
        instructor.click("#start-broadcast")
        expect(instructor.locator("#connection-state")).to_have_attribute(
            "data-state", "live", timeout=30_000
        )

        # The speech outruns the recogniser: both pages say how late the captions are.
        expect(notice).to_be_visible(timeout=60_000)
        expect(notice).to_contain_text("Captions are delayed by")
        seconds = int(notice.inner_text().split("delayed by ")[1].split(" ")[0])
        assert seconds >= 3, notice.inner_text()
        expect(instructor.locator("#caption-delay")).to_contain_text("Captions are delayed by")

        # In the silence after the speech the backlog is decoded: the notice goes away while
        # the lecture is still live, and the words that were late are on the screen.
        expect(notice).to_be_hidden(timeout=60_000)
        expect(student.locator("#live-state")).to_have_attribute("data-state", "live")
        expect(instructor.locator("#connection-state")).to_have_attribute("data-state", "live")
        expect(student.locator("#finals")).to_contain_text("any time")
        expect(instructor.locator("#caption-delay")).to_be_hidden()
        instructor.click("#stop-broadcast")
        expect(instructor.locator("#connection-state")).to_have_attribute("data-state", "stopped")
