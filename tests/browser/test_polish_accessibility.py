"""The pages this round added or reshaped pass axe (WCAG 2.1 AA) in Korean and English, on a
phone and a laptop, and reflow at 200 % text without sideways scrolling."""

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from lectures.models import Lecture
from tests.browser.conftest import assert_no_violations, logged_in_page
from tests.conftest import PASSWORD, World

SIZES = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]


def signed_in_pages(world: World) -> dict[str, str]:
    lecture = world.lecture.pk
    return {
        "live captions": f"/lectures/{lecture}/live/",
        "end the lecture?": f"/lectures/{lecture}/end/",
        "broadcast": f"/lectures/{lecture}/broadcast/",
        "lecture, correction mode": f"/lectures/{lecture}/?correct=1",
        "correct a caption": f"/lectures/{lecture}/captions/1/edit/",
        "course with vocabulary": f"/courses/{world.course.pk}/",
        "dashboard": "/dashboard/",
        "not found": f"/lectures/{world.other_lecture.pk}/",
    }


ANONYMOUS_PAGES = ["/", "/accounts/password/reset/", "/accounts/password/reset/sent/"]


def check(page: Page, base: str, paths: list[str]) -> None:
    for size in SIZES:
        page.set_viewport_size(size)  # type: ignore[arg-type]
        for path in paths:
            page.goto(f"{base}{path}")
            assert_no_violations(page)
    page.set_viewport_size({"width": 640, "height": 900})
    for path in paths:
        page.goto(f"{base}{path}")
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 200% text"


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_the_new_and_changed_pages_pass_axe_and_reflow(
    transactional_db: None, world: World, live_server: Any, browser: Browser, locale: str
) -> None:
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    world.lecture.save()
    anonymous = browser.new_context(locale=locale).new_page()
    check(anonymous, live_server.url, ANONYMOUS_PAGES)
    page = logged_in_page(
        browser, live_server.url, world.instructor.username, PASSWORD, locale=locale
    )
    check(page, live_server.url, list(signed_in_pages(world).values()))
