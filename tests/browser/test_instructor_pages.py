"""The instructor's and student's pages around a lecture, in Chromium: ending asks first and can
be undone, one click starts and broadcasts, the broadcast page's controls look like what they
are, corrections are made in place, and a student's dashboard sees a lecture go live."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Playwright, expect
from pytest_django import Settings

from captions.models import SegmentRevision, TranscriptSegment
from lectures.models import Lecture
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, assert_no_violations, logged_in_page
from tests.conftest import PASSWORD, World


@pytest.fixture(scope="module")
def browser_with_fake_microphone(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with its fake capture devices (a beep), as on a laptop with a microphone."""
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
        ],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def notes_aside(transactional_db: None, settings: Settings) -> Iterator[None]:
    """Notes computed on a background thread, as in the product (never in the request the
    browser waits for); the test waits for those threads before its database is emptied."""
    settings.EAGER_TASKS_IN_BACKGROUND = True
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("task-"):
            thread.join(timeout=300)


def go_live(lecture: Lecture) -> None:
    lecture.status = Lecture.Status.LIVE
    lecture.started_at = timezone.now()
    lecture.save()


def test_ending_a_lecture_asks_first_and_can_be_undone(
    notes_aside: None, world: World, live_server: Any, browser: Browser
) -> None:
    go_live(world.lecture)
    page = logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/")
    page.click("#end-lecture")
    expect(page.locator("h1")).to_have_text("강의를 끝낼까요?")
    assert_no_violations(page)
    page.click("text=계속 진행")  # "Keep it live": nothing happened
    world.lecture.refresh_from_db()
    assert world.lecture.is_live

    page.click("#end-lecture")
    page.click("#confirm-end")
    expect(page.locator(".messages")).to_contain_text("15")
    world.lecture.refresh_from_db()
    assert not world.lecture.is_live
    page.click("#resume-lecture")
    expect(page.locator("#end-lecture")).to_be_visible()
    world.lecture.refresh_from_db()
    assert world.lecture.is_live


def test_start_and_broadcast_is_one_click_and_the_controls_look_like_what_they_are(
    transactional_db: None, world: World, live_server: Any, browser_with_fake_microphone: Browser
) -> None:
    page = logged_in_page(
        browser_with_fake_microphone, live_server.url, world.instructor.username, PASSWORD
    )
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/")
    page.click("#start-and-broadcast")
    page.wait_for_url(f"{live_server.url}/lectures/{world.lecture.pk}/broadcast/")
    world.lecture.refresh_from_db()
    assert world.lecture.is_live
    # The microphone came on by itself: Start is now the disabled one, and looks it.
    expect(page.locator("#start-broadcast")).to_be_disabled()
    expect(page.locator("#stop-broadcast")).to_be_enabled()
    start_bg = page.locator("#start-broadcast").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    stop_bg = page.locator("#stop-broadcast").evaluate("el => getComputedStyle(el).backgroundColor")
    assert start_bg != stop_bg
    assert (
        page.locator("#start-broadcast").evaluate("el => getComputedStyle(el).cursor")
        == "not-allowed"
    )
    page.click("#stop-broadcast")
    expect(page.locator("#stop-broadcast")).to_be_disabled()
    expect(page.locator("#start-broadcast")).to_be_enabled()
    # The microphone picker lists the machine's inputs; the viewer count is shown.
    assert page.locator("#mic-select option").count() >= 2
    expect(page.locator("#viewer-count")).to_have_text("0")
    assert_no_violations(page)


def test_captions_are_corrected_in_place_and_merged(
    notes_aside: None, world: World, live_server: Any, browser: Browser
) -> None:
    lecture = world.lecture
    lecture.segments.all().delete()
    for seq, text in enumerate(["We are met on a great", "battlefield of that war.", "End."], 1):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=seq, start_ms=seq * 2000, end_ms=seq * 2000 + 1500, text=text
        )
    lecture.status = Lecture.Status.READY
    lecture.save()
    page = logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{lecture.pk}/?correct=1")
    assert_no_violations(page)
    page.click("#seg-3")
    page.fill("#inline-edit-3", "The end.")
    page.click(".inline-editor button[type=submit]")
    expect(page.locator("#seg-3")).to_have_text("The end.")
    assert TranscriptSegment.objects.get(lecture=lecture, seq=3).text == "The end."

    page.locator("#seg-1").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inline-edit-1")).to_be_focused()
    assert_no_violations(page)
    page.click("text=다음 자막과 합치기")
    expect(page.locator("#seg-1")).to_have_text("We are met on a great battlefield of that war.")
    expect(page.locator("#seg-2")).to_have_count(0)
    assert SegmentRevision.objects.filter(segment__lecture=lecture, segment__seq=1).count() == 2

    # And cut in two again, at the cursor.
    page.click("#seg-1")
    page.locator("#inline-edit-1").evaluate("el => el.setSelectionRange(21, 21)")
    page.click("text=커서 위치에서 나누기")
    expect(page.locator("#seg-1")).to_have_text("We are met on a great")
    expect(page.locator("#seg-2")).to_have_text("battlefield of that war.")


def test_the_dashboard_shows_a_lecture_going_live_without_a_reload(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    page = logged_in_page(browser, live_server.url, world.student.username, PASSWORD)
    page.clock.install()
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#live-now")).to_be_hidden()
    go_live(world.lecture)  # as lecture_start stores it (its publishing needs no browser here)
    page.clock.run_for(16_000)
    expect(page.locator("#live-now")).to_be_visible()
    expect(page.locator("#live-now-list a")).to_have_text("1주차")
    expect(page.locator("#live-now-announce")).to_contain_text("1주차")
    assert_no_violations(page)
