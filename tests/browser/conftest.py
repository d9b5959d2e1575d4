"""Headless Chromium (Debian's package, never a downloaded browser) driven by Playwright."""

import os
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from hearus_testkit.tools import require_tool

CHROMIUM = os.environ.get("HEARUS_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium tries to reach Google's services through a network it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE = Axe()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: Playwright's sync API keeps an event loop running in this thread, which
    the asyncio tests of other modules must not find there."""
    require_tool(CHROMIUM, "apt-get install chromium")
    # Playwright's sync API keeps an event loop in this thread while it runs; the tests' own ORM
    # calls only set up and flush data, never race the server, so Django's guard stands down.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as running:
            yield running
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def logged_in_page(
    browser: Browser, base_url: str, username: str, password: str, *, locale: str = "ko-KR"
) -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["microphone"], origin=base_url)
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard/")
    return page


def assert_no_violations(page: Page) -> None:
    """axe-core finds no WCAG 2.1 AA violation on the page as it is now."""
    results = AXE.run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def microphone_wav(path: Path, pcm16: bytes) -> Path:
    """A 16 kHz mono WAV for Chromium's fake microphone (it plays the file in a loop)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm16)
    return path


def launch_with_microphone(playwright: Playwright, wav: Path) -> Browser:
    """A Chromium whose microphone plays `wav` (the flags are per process: a browser of its own)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
