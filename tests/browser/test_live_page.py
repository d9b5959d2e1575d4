"""The student's live caption page in Chromium, phone-first: the newest caption is on screen at
390x844 and 1280x800, the header stays compact, settings changed quickly are all saved,
keywords are highlighted on word boundaries only (and can be turned off), captions carry the
lecture's language, and the captions pop out into a small window of their own."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, ViewportSize, expect

from captions.models import TranscriptSegment
from lectures.models import Keyword, Lecture
from tests.browser.conftest import assert_no_violations, logged_in_page
from tests.conftest import PASSWORD, World
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SCREENSHOTS = Path(os.environ.get("HEARUS_SCREENSHOTS", "/tmp/hearus-screenshots"))
LINES = [
    "We are met on a great",
    "battlefield of that war.",
    "Um, we have come to dedicate a portion of that field",
    "as a final resting place for those who here gave their lives.",
]


def live_lecture_with_captions(world: World, count: int = 40) -> Lecture:
    lecture = world.lecture
    world.course.language = "en"
    world.course.save()
    lecture.segments.all().delete()
    for seq in range(1, count + 1):
        TranscriptSegment.objects.create(
            lecture=lecture,
            seq=seq,
            start_ms=seq * 3000,
            end_ms=seq * 3000 + 2500,
            text=f"{LINES[seq % len(LINES)]} ({seq})",
        )
    for rank, term in enumerate(["field", "dedicate", "um", "war"], 1):
        Keyword.objects.create(
            lecture=lecture, rank=rank, term=term, score=1 / rank, count=3, occurrences=[]
        )
    lecture.status = Lecture.Status.LIVE
    lecture.started_at = timezone.now()
    lecture.save()
    return lecture


@pytest.fixture
def server(world: World) -> Iterator[str]:
    live_lecture_with_captions(world)
    with daphne_server() as base_url:
        yield base_url


def open_live(browser: Browser, base_url: str, world: World, viewport: ViewportSize) -> Page:
    page = logged_in_page(browser, base_url, world.student.username, PASSWORD, locale="en-US")
    page.set_viewport_size(viewport)
    page.goto(f"{base_url}/lectures/{world.lecture.pk}/live/")
    expect(page.locator("#finals li")).to_have_count(40)
    expect(page.locator("#live-keywords")).to_be_visible()
    return page


def assert_newest_caption_on_screen(page: Page) -> None:
    # The scroll to the newest caption runs after layout (a ResizeObserver): wait for it.
    expect(page.locator("#finals li").last).to_be_in_viewport(ratio=1)
    assert page.evaluate("window.scrollY") == 0  # the page itself did not have to scroll


@pytest.mark.parametrize("name,viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_the_newest_caption_is_on_screen_without_scrolling(
    world: World, server: str, browser: Browser, name: str, viewport: ViewportSize
) -> None:
    page = open_live(browser, server, world, viewport)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"live-{name}.png"))
    assert_newest_caption_on_screen(page)
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 80, f"header is {header} tall"
    first_caption = page.locator("#caption-view").bounding_box()
    assert first_caption is not None and first_caption["y"] < viewport["height"] / 3

    # Reading back pauses the auto-scroll and offers a way back to the newest caption.
    page.locator("#caption-scroller").evaluate("el => { el.scrollTop = 0; }")
    expect(page.locator("#finals li").last).not_to_be_in_viewport()
    jump = page.locator("#jump-latest")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    assert_newest_caption_on_screen(page)
    # Opening the display settings (or the menu) shrinks the caption box: still the newest.
    page.click("#caption-settings-toggle")
    assert_newest_caption_on_screen(page)
    expect(jump).to_be_hidden()
    page.click("#caption-settings-toggle")
    assert_no_violations(page)


def test_settings_changed_quickly_are_all_saved(
    world: World, server: str, browser: Browser
) -> None:
    page = open_live(browser, server, world, DESKTOP)
    page.click("#caption-settings-toggle")
    page.select_option("#pref-theme", "yellow")
    page.select_option("#pref-position", "bottom")
    page.locator("#pref-font-scale").fill("2")
    page.uncheck("#pref-keywords")
    expect(page.locator("#settings-status")).not_to_be_empty()  # saved once the reader paused
    world.student.refresh_from_db()
    saved = world.student.caption_preferences
    assert saved["theme"] == "yellow"
    assert saved["position"] == "bottom"
    assert saved["font_scale"] == 2
    assert saved["highlight_keywords"] is False
    page.reload()
    view = page.locator("#caption-view")
    expect(view).to_have_attribute("data-theme", "yellow")
    expect(view).to_have_attribute("data-position", "bottom")


def test_keywords_are_highlighted_as_whole_words_and_can_be_turned_off(
    world: World, server: str, browser: Browser
) -> None:
    page = open_live(browser, server, world, DESKTOP)
    marks = page.locator("#finals mark.keyword").all_inner_texts()
    assert "field" in marks and "dedicate" in marks and "war" in marks
    assert "um" not in [mark.lower() for mark in marks]  # a filler is never a keyword
    battlefield = page.locator("#caption-1")
    expect(battlefield).to_contain_text("battlefield")
    assert battlefield.locator("mark").all_inner_texts() == ["war"]  # not "…field"
    assert "um" not in page.locator("#live-keyword-list").inner_text().lower().split()
    page.click("#caption-settings-toggle")
    page.uncheck("#pref-keywords")
    expect(page.locator("#finals mark.keyword")).to_have_count(0)


def test_captions_carry_the_lectures_language(world: World, server: str, browser: Browser) -> None:
    page = logged_in_page(browser, server, world.student.username, PASSWORD, locale="ko-KR")
    page.goto(f"{server}/lectures/{world.lecture.pk}/live/")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.get_attribute("#finals", "lang") == "en"
    page.goto(f"{server}/lectures/{world.lecture.pk}/")
    assert page.get_attribute("#transcript", "lang") == "en"


def test_captions_pop_out_into_a_small_window_with_the_readers_settings(
    world: World, server: str, browser: Browser
) -> None:
    page = open_live(browser, server, world, DESKTOP)
    # Headless Chromium has no Document Picture-in-Picture: the popup window is the fallback.
    page.evaluate("delete window.documentPictureInPicture")
    with page.expect_popup() as popup_info:
        page.click("#pop-out")
    popup = popup_info.value
    expect(popup.locator("#finals li")).to_have_count(40)
    assert popup.locator(".site-header").count() == 0
    assert popup.evaluate("document.body.classList.contains('popout')")
    popup.set_viewport_size({"width": 420, "height": 260})
    # The newest caption is brought into view after the resize's layout (a ResizeObserver).
    expect(popup.locator("#finals li").last).to_be_in_viewport(ratio=1)
