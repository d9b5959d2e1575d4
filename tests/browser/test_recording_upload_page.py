"""The lecture page uploads a recording in parts from Chromium, under the strict CSP, and the
parts make the whole file (issue 15, item 3)."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django import Settings

from classroom.recording_transcription import recording_storage as _storage
from hearus_testkit.encoding import encode
from hearus_testkit.speech import synthesize_wav
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from ml.audio import read_wav
from tests.browser.conftest import logged_in_page
from tests.conftest import PASSWORD, World


@pytest.fixture(scope="module")
def speech_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wav = synthesize_wav(ENGLISH_TEXT, "en-us", tmp_path_factory.mktemp("page-upload"))
    return encode(read_wav(wav), wav.with_name("week3.mp3"), "libmp3lame", rate=44_100)


def test_the_page_uploads_a_recording_in_parts_under_the_csp(
    transactional_db: None,
    world: World,
    live_server: Any,
    browser: Browser,
    settings: Settings,
    speech_mp3: Path,
) -> None:
    settings.RECORDING_PART_BYTES = 16 * 1024  # several parts for a small file
    world.course.language = "en"
    world.course.save()
    lecture = Lecture.objects.create(
        course=world.course, title="Recorded", scheduled_at=world.lecture.scheduled_at
    )
    page: Page = logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/lectures/{lecture.pk}/")
    page.set_input_files("#recording-file", str(speech_mp3))
    with page.expect_navigation(timeout=180_000):  # the script reloads the page when done
        page.click("#recording-submit")
    expect(page.locator("main")).to_contain_text("machine learning", timeout=30_000)
    lecture.refresh_from_db()
    assert lecture.recording.name.endswith(".mp3")
    with _storage().open(lecture.recording.name, "rb") as stored:
        assert stored.read() == speech_mp3.read_bytes()
    assert blocked == []
