"""The lecture notes page in Chromium: accessible (axe, in Korean), keywords step through their
occurrences from the keyboard, and the correction pages pass too."""

from typing import Any

from playwright.sync_api import Browser, Page, expect

from captions.models import TranscriptSegment
from lectures.models import Keyword, Lecture, Section, Summary
from tests.browser.conftest import assert_no_violations, logged_in_page
from tests.conftest import PASSWORD, World

LINES = [
    (0, 3000, "오늘은 신경망을 배웁니다."),
    (3200, 6000, "신경망은 뉴런으로 이루어져 있습니다."),
    (12000, 15000, "역전파로 신경망을 학습합니다."),
]


def notes_of(lecture: Lecture) -> None:
    lecture.segments.all().delete()
    for seq, (start, end, text) in enumerate(LINES, 1):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=seq, start_ms=start, end_ms=end, text=text
        )
    Keyword.objects.create(
        lecture=lecture,
        rank=1,
        term="신경망",
        score=1.0,
        count=3,
        occurrences=[[1, 4, 7], [2, 0, 3], [3, 5, 8]],
    )
    Keyword.objects.create(
        lecture=lecture, rank=2, term="역전파", score=0.6, count=1, occurrences=[[3, 0, 3]]
    )
    Summary.objects.create(
        lecture=lecture,
        method="model",
        sentences=[{"seq": 3, "start": 0, "end": 16, "text": LINES[2][2], "score": 0.9}],
    )
    Section.objects.create(
        lecture=lecture,
        position=1,
        start_ms=0,
        end_ms=15000,
        first_seq=1,
        title="신경망 · 역전파",
        terms=["신경망", "역전파"],
        sentences=[
            {"seq": 3, "start": 0, "end": 16, "text": LINES[2][2], "score": 0.9, "start_ms": 12000}
        ],
    )
    lecture.status = Lecture.Status.READY
    lecture.save()


def test_the_notes_page_is_accessible_and_keywords_step_through_occurrences(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    notes_of(world.lecture)
    page: Page = logged_in_page(browser, live_server.url, world.student.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/")
    assert_no_violations(page)  # the sections block included
    expect(page.locator(".sections h3")).to_have_text("0:00 신경망 · 역전파")
    page.locator(".sections .summary a.timestamp").first.click()
    expect(page).to_have_url(f"{live_server.url}/lectures/{world.lecture.pk}/#seg-3")

    keyword = page.locator(".keyword-link[data-keyword='1']")
    keyword.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".kw.active")).to_have_count(3)
    expect(page.locator("#keyword-position")).to_contain_text("1")
    expect(page.locator(".kw.current")).to_have_text("신경망")
    assert page.evaluate("document.activeElement.id") == "seg-1"
    page.keyboard.press("Shift+Tab")  # back to the keyword (focus moved to the caption)
    keyword.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "seg-2"
    assert page.url.endswith("#seg-2")
    assert_no_violations(page)  # highlighted state too


def test_the_correction_pages_are_accessible(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> None:
    notes_of(world.lecture)
    page = logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/?correct=1")
    assert_no_violations(page)
    page.locator(".edit-link").first.click()
    page.fill("textarea[name=text]", "오늘은 신경망을 공부합니다.")
    page.click("form button[type=submit].primary")
    expect(page.locator("#seg-1")).to_have_text("오늘은 신경망을 공부합니다.")
    page.goto(f"{live_server.url}/lectures/{world.lecture.pk}/captions/1/edit/")
    expect(page.locator("del")).to_have_text("오늘은 신경망을 배웁니다.")
    assert_no_violations(page)
