"""The broadcast page keeps its audio across a server crash: in real Chromium with a fake
microphone (a WAV of espeak speech), the Daphne serving the page is killed (-9) mid-sentence and
started again on the same port a second later. The page reconnects by itself, resends what the
dead server never acknowledged, and the stored captions hold the speech from both sides of the
crash and what was said while the server was down, each once. And a connection the network
drops without telling anyone is given up by the page, which reconnects by itself."""

import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Playwright, expect

from captions.models import TranscriptSegment
from hearus_testkit.daphne import DaphneProcess
from hearus_testkit.proxy import CuttableRelay
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import LONGER_ENGLISH_TEXT
from hearus_testkit.transcripts import words
from lectures.models import Lecture
from ml.error_rates import word_error_rate
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, logged_in_page
from tests.conftest import PASSWORD, World
from tests.daphne_server import restartable_daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

SPEECH_S = 24  # LONGER_ENGLISH_TEXT, spoken by espeak-ng (24.9 s)


@pytest.fixture
def microphone_wav(tmp_path: Path) -> Path:
    """~25 s of speech, then 5 s of silence before it loops: the test stops within the silence."""
    pcm = spoken_pcm16(LONGER_ENGLISH_TEXT, "en-us", tmp_path, then_silence_s=5.0)
    path = tmp_path / "microphone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)
    return path


@pytest.fixture
def browser_with_microphone(playwright: Playwright, microphone_wav: Path) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[DaphneProcess]:
    with restartable_daphne_server(tmp_path / "daphne.log") as daphne:
        yield daphne


def spoken_text(lecture: Lecture) -> str:
    return " ".join(
        TranscriptSegment.objects.filter(lecture=lecture, seq__gt=1)  # seq 1: the fixture's
        .order_by("seq")
        .values_list("text", flat=True)
    )


def lecture_ms(lecture: Lecture) -> int:
    """Now, on the lecture's time line."""
    assert lecture.started_at is not None
    return int((timezone.now() - lecture.started_at).total_seconds() * 1000)


def longest_gap_ms(lecture: Lecture, start_ms: int, end_ms: int) -> int:
    """The longest stretch of [start_ms, end_ms] that no stored caption spans."""
    spans = TranscriptSegment.objects.filter(lecture=lecture, seq__gt=1).values_list(
        "start_ms", "end_ms"
    )
    longest, covered = 0, start_ms
    for begin, end in sorted(spans):
        if end <= covered:
            continue
        if begin >= end_ms:
            break
        longest = max(longest, begin - covered)
        covered = end
    return max(longest, end_ms - covered)


def test_the_broadcast_page_resends_its_audio_after_the_server_is_killed(
    world: World, browser_with_microphone: Browser, server: DaphneProcess
) -> None:
    world.course.language = "en"
    world.course.save()
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    world.lecture.save()
    page = logged_in_page(
        browser_with_microphone,
        server.base_url,
        world.instructor.username,
        PASSWORD,
        locale="en-US",
    )
    page.goto(f"{server.base_url}/lectures/{world.lecture.pk}/broadcast/")
    page.click("#start-broadcast")
    speech_ends_ms = lecture_ms(world.lecture) + SPEECH_S * 1000
    state = page.locator("#connection-state")
    expect(state).to_have_attribute("data-state", "live", timeout=30_000)
    # The first sentences are captioned; the fourth ("Last week we talked about ...") is being
    # spoken when the server dies.
    expect(page.locator("#own-finals")).to_contain_text("any time", timeout=60_000)
    server.kill()
    killed_ms = lecture_ms(world.lecture)
    expect(state).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    time.sleep(1.0)
    server.start()  # the same port, database and audio folder
    expect(state).to_have_attribute("data-state", "live", timeout=60_000)
    back_ms = lecture_ms(world.lecture)
    # The page's own captions, which now come from the new server, reach the last sentence.
    expect(page.locator("#own-finals")).to_contain_text("reduces the error", timeout=120_000)
    page.click("#stop-broadcast")
    expect(state).to_have_attribute("data-state", "stopped")

    deadline = time.monotonic() + 120
    while "reduces the error" not in (spoken := spoken_text(world.lecture)).lower():
        assert time.monotonic() < deadline, spoken
        time.sleep(0.5)
    # Before the crash, while the server was down (the audio the page kept), and after it:
    # the whole speech once, within recognition's slack (what follows is the WAV looping).
    end = spoken.lower().index("reduces the error") + len("reduces the error")
    spoken = spoken[:end]
    assert word_error_rate(LONGER_ENGLISH_TEXT, spoken) < 0.25, spoken
    # What was said while no server listened is captioned: no stretch of it longer than the
    # speech's own pauses (under 1 s) lacks a caption.
    gap = longest_gap_ms(world.lecture, killed_ms, min(back_ms, speech_ends_ms))
    assert gap < 1_500, (gap, killed_ms, back_ms, spoken)
    said = words(spoken)
    runs = list(zip(said, said[1:], said[2:], strict=False))
    assert len(runs) == len(set(runs)), f"a run of words was stored twice: {spoken}"


def test_the_broadcast_page_gives_up_a_connection_that_went_silent(
    world: World, browser_with_microphone: Browser, server: DaphneProcess
) -> None:
    world.course.language = "en"
    world.course.save()
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.started_at = timezone.now()
    world.lecture.save()
    relay = CuttableRelay(server.port)  # the page's network
    try:
        page = logged_in_page(
            browser_with_microphone,
            relay.base_url,
            world.instructor.username,
            PASSWORD,
            locale="en-US",
        )
        page.goto(f"{relay.base_url}/lectures/{world.lecture.pk}/broadcast/")
        page.click("#start-broadcast")
        state = page.locator("#connection-state")
        expect(state).to_have_attribute("data-state", "live", timeout=30_000)
        expect(page.locator("#own-finals")).to_contain_text("machine learning", timeout=60_000)
        # Nothing reaches either side any more, and neither is told: the socket stays "open".
        assert relay.cut(silently=True) >= 1
        expect(state).to_have_attribute("data-state", "reconnecting", timeout=30_000)
        expect(state).to_have_attribute("data-state", "live", timeout=60_000)
        expect(page.locator("#own-finals")).to_contain_text("reduces the error", timeout=120_000)
        page.click("#stop-broadcast")
        expect(state).to_have_attribute("data-state", "stopped")
    finally:
        relay.close()
    spoken = spoken_text(world.lecture)
    spoken = spoken[: spoken.lower().index("reduces the error") + len("reduces the error")]
    assert word_error_rate(LONGER_ENGLISH_TEXT, spoken) < 0.25, spoken
    said = words(spoken)
    runs = list(zip(said, said[1:], said[2:], strict=False))
    assert len(runs) == len(set(runs)), f"a run of words was stored twice: {spoken}"
