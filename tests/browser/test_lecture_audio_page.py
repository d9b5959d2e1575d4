"""The notes page plays the lecture's kept audio in Chromium: ▶ on a caption (from the keyboard)
or a summary line seeks the player to that caption's start and plays, and the caption being
heard is marked; the page stays accessible with the player on it. The correction page plays a
caption from its start and stops at its end."""

from typing import Any

from playwright.sync_api import Browser, Page, expect

from captions.models import TranscriptSegment
from lectures.models import Lecture
from tests.browser.conftest import assert_no_violations, logged_in_page
from tests.browser.test_notes_page import LINES, notes_of
from tests.conftest import PASSWORD, World
from tests.test_lecture_audio import keep_audio

PLAYING = """([seq, after]) => {
  const audio = document.getElementById("lecture-audio");
  const caption = document.getElementById(`seg-${seq}`);
  return !audio.paused && audio.currentTime > after
    && caption.getAttribute("aria-current") === "true";
}"""


def heard(page: Page) -> list[str]:
    """The ids of the captions marked as heard (one at most)."""
    return [
        str(caption.get_attribute("id"))
        for caption in page.locator("#transcript .segment[aria-current='true']").all()
    ]


def test_the_notes_page_plays_from_a_chosen_caption_and_marks_it(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    notes_of(world.lecture)  # captions at 0-3 s, 3.2-6 s and 12-15 s; a summary line at 12 s
    keep_audio(world.lecture, 16.0)
    page: Page = logged_in_page(browser, live_server.url, world.student.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/")
    expect(page.locator("#lecture-audio")).to_be_visible()
    assert_no_violations(page)

    # The second caption's ▶, from the keyboard.
    second = page.locator("#transcript button.play-from").nth(1)
    expect(second).to_have_accessible_name("0:03부터 재생")
    second.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(PLAYING, arg=[2, 3.2], timeout=10_000)
    position = page.evaluate("document.getElementById('lecture-audio').currentTime")
    start, end, _text = LINES[1]
    assert start / 1000 - 0.05 <= position < end / 1000, position
    assert heard(page) == ["seg-2"]
    expect(page.locator("#seg-2")).to_have_class("segment playing")

    # A summary line plays from its sentence: the third caption.
    page.locator(".summary button.play-from").first.click()
    page.wait_for_function(PLAYING, arg=[3, 12.0], timeout=10_000)
    assert heard(page) == ["seg-3"]
    page.evaluate("document.getElementById('lecture-audio').pause()")


def test_the_correction_page_plays_the_caption_and_stops_at_its_end(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    notes_of(world.lecture)
    Lecture.objects.filter(pk=world.lecture.pk).update(status=Lecture.Status.READY)
    keep_audio(world.lecture, 16.0)
    page: Page = logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/captions/1/edit/")
    button = page.locator("#play-caption")
    expect(button).to_contain_text("이 자막 재생")
    button.click()
    page.wait_for_function(
        "() => { const a = document.getElementById('caption-audio');"
        " return a.paused && a.currentTime > 2.5; }",
        timeout=10_000,
    )
    position = page.evaluate("document.getElementById('caption-audio').currentTime")
    assert 2.9 <= position < 4.0, position  # caption 1 ends at 3 s; nothing after it plays
    assert_no_violations(page)


IN_VIEW = """(seq) => {
  const box = document.getElementById(`seg-${seq}`).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}"""


def test_the_heard_caption_is_followed_until_the_reader_scrolls_away(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    """Twenty one-second captions, each several lines long on a small screen: playing keeps the
    heard one in view; once the reader scrolls back to the top, playing no longer moves the page."""
    world.lecture.segments.all().delete()
    sentence = "The gradient of the loss tells each weight which way to move, and how far. " * 3
    for seq in range(1, 21):
        start = (seq - 1) * 1000
        TranscriptSegment.objects.create(
            lecture=world.lecture, seq=seq, start_ms=start, end_ms=start + 950, text=sentence
        )
    Lecture.objects.filter(pk=world.lecture.pk).update(status=Lecture.Status.READY)
    keep_audio(world.lecture, 20.0)
    page = logged_in_page(browser, live_server.url, world.student.username, PASSWORD)
    page.set_viewport_size({"width": 600, "height": 400})
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/")
    page.locator("#transcript button.play-from").first.click()

    page.wait_for_function(PLAYING, arg=[6, 5.0], timeout=15_000)
    page.wait_for_function(IN_VIEW, arg=6, timeout=5_000)  # followed down the page

    page.mouse.wheel(0, -100_000)  # the reader goes back up to read the start again
    page.wait_for_function("() => window.scrollY === 0", timeout=5_000)
    page.wait_for_function(PLAYING, arg=[9, 8.0], timeout=15_000)
    assert page.evaluate("window.scrollY") == 0  # left where the reader is
    assert heard(page) == ["seg-9"]
    page.evaluate("document.getElementById('lecture-audio').pause()")
