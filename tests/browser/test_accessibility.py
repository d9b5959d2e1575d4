"""Pages meet WCAG 2.1 AA as far as a machine can tell (axe-core), reflow at 200% text and
work from the keyboard. Checked in Korean, the default interface language."""

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import assert_no_violations, logged_in_page
from tests.conftest import PASSWORD, World


def page_urls(world: World) -> dict[str, str]:
    return {
        "dashboard": "/dashboard/",
        "course": f"/courses/{world.course.pk}/",
        "lecture": f"/lectures/{world.lecture.pk}/",
        "new lecture": f"/courses/{world.course.pk}/lectures/new/",
        "password": "/accounts/password/",
    }


@pytest.fixture
def instructor_page(
    transactional_db: None, world: World, live_server: Any, browser: Browser
) -> Page:
    return logged_in_page(browser, live_server.url, world.instructor.username, PASSWORD)


def test_anonymous_pages_have_no_wcag_violations(
    transactional_db: None, live_server: Any, browser: Browser
) -> None:
    page = browser.new_context(locale="ko-KR").new_page()
    for path in ["/accounts/login/", "/accounts/signup/"]:
        page.goto(f"{live_server.url}{path}")
        assert page.get_attribute("html", "lang") == "ko"
        assert_no_violations(page)


def test_signed_in_pages_have_no_wcag_violations(
    instructor_page: Page, world: World, live_server: Any
) -> None:
    for path in page_urls(world).values():
        instructor_page.goto(f"{live_server.url}{path}")
        assert_no_violations(instructor_page)


def test_a_form_with_errors_has_no_wcag_violations(instructor_page: Page, live_server: Any) -> None:
    instructor_page.fill("#id_join_code", "WRONG123")
    instructor_page.click("form[action='/dashboard/'] button[type=submit]")
    instructor_page.wait_for_selector("[role=alert]")
    assert instructor_page.get_attribute("#id_join_code", "aria-invalid") == "true"
    assert_no_violations(instructor_page)


def test_pages_reflow_at_200_percent_text_without_sideways_scrolling(
    instructor_page: Page, world: World, live_server: Any
) -> None:
    instructor_page.set_viewport_size({"width": 640, "height": 900})
    for path in page_urls(world).values():
        instructor_page.goto(f"{live_server.url}{path}")
        instructor_page.evaluate("document.documentElement.style.fontSize = '200%'")
        overflow = instructor_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 200% text"


def test_the_keyboard_reaches_the_skip_link_first_and_focus_is_visible(
    instructor_page: Page, live_server: Any
) -> None:
    instructor_page.keyboard.press("Tab")
    focused = instructor_page.evaluate(
        "(() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return [el.className, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused[0] == "skip-link"
    assert focused[1] != "none" and focused[2] != "0px"
    instructor_page.keyboard.press("Enter")
    assert instructor_page.evaluate("document.activeElement.id") == "main"
