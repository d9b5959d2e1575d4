"""Nothing lost, nothing heard twice, through real faults: a broadcaster that behaves like the
broadcast page (hearus_testkit.broadcaster) streams ~25 s of speech to a real Daphne in real
time while the test kills the server (`kill -9`, restarted after 1 s on the same port, database
and audio folder) or cuts the broadcaster's TCP connection (the page sees a reset, the server
nothing). The stored transcript is compared with the same audio's, broadcast without a fault:
no stretch of words the no-fault run has is missing except within 1 s of the fault (single
words differ between any two runs: recognition), no run of words is stored twice, and the
lecture's kept audio is as long as the lecture."""

import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from knox.models import AuthToken

from captions.models import TranscriptSegment
from hearus_testkit.broadcaster import Broadcaster, BroadcastLog
from hearus_testkit.daphne import DaphneProcess
from hearus_testkit.proxy import CuttableRelay
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import LONGER_ENGLISH_TEXT
from hearus_testkit.transcripts import TimedWord, compare, timed_words, words
from lectures.audio import kept_audio
from lectures.models import Lecture
from lectures.services import lecture_create, lecture_start
from ml.asr import SAMPLE_RATE
from ml.media import decode_media
from tests.captions.conftest import session_cookie
from tests.conftest import World
from tests.daphne_server import restartable_daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

FAULT_AT_S = 11.0  # into the speech: mid-sentence, with captions both before and after
SLACK_S = 1.0  # recognition may differ this close to a fault


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory: Path = tmp_path_factory.mktemp("speech")
    return spoken_pcm16(LONGER_ENGLISH_TEXT, "en-us", directory, then_silence_s=1.5)


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[DaphneProcess]:
    with restartable_daphne_server(tmp_path / "daphne.log") as daphne:
        yield daphne


@dataclass
class Run:
    lecture: Lecture
    log: BroadcastLog

    def captions(self) -> list[tuple[int, int, str]]:
        return list(
            TranscriptSegment.objects.filter(lecture=self.lecture)
            .order_by("seq")
            .values_list("start_ms", "end_ms", "text")
        )

    def text(self) -> str:
        return " ".join(text for _, _, text in self.captions())

    def timed_words(self) -> list[TimedWord]:
        assert self.log.first_offset_ms is not None
        return timed_words(self.captions(), self.log.first_offset_ms)


def live_lecture(world: World) -> Lecture:
    """A fresh lecture of the English course, started now."""
    lecture = lecture_create(
        course=world.other_course,
        by=world.other_instructor,
        title="Gradient descent",
        scheduled_at=timezone.now() + timedelta(minutes=1),
    )
    return lecture_start(lecture=lecture, by=world.other_instructor)


def broadcaster(world: World, base_url: str, lecture: Lecture, speech: bytes) -> Broadcaster:
    return Broadcaster(base_url, lecture.pk, session_cookie(world.other_instructor), speech)


def end_lecture(world: World, server: DaphneProcess, lecture: Lecture) -> None:
    """As the instructor's End button does; the server then captions and joins its audio."""
    _instance, token = AuthToken.objects.create(user=world.other_instructor)
    request = urllib.request.Request(
        f"{server.base_url}/api/lectures/{lecture.pk}/end/",
        method="POST",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def kept_audio_s(lecture: Lecture, timeout_s: float = 180) -> float:
    """The kept audio's length, once the server has joined the journal."""
    deadline = time.monotonic() + timeout_s
    while (path := kept_audio(lecture.pk)) is None:
        assert time.monotonic() < deadline, "the lecture's audio was never kept"
        time.sleep(0.5)
    return float(decode_media(path).size / SAMPLE_RATE)


def wait_for_audio(caster: Broadcaster, position_s: float) -> float:
    while caster.audio_position_s() < position_s:
        time.sleep(0.02)
    return caster.audio_position_s()


_no_fault: dict[str, list[TimedWord]] = {}


def no_fault_words(world: World, server: DaphneProcess, speech: bytes) -> list[TimedWord]:
    """The speech's words as a broadcast without a fault stores them (once per module)."""
    if "words" not in _no_fault:
        lecture = live_lecture(world)
        log = broadcaster(world, server.base_url, lecture, speech).run()
        assert log.disconnects() == 0
        _no_fault["words"] = Run(lecture, log).timed_words()
    return _no_fault["words"]


def assert_nothing_lost_or_twice(
    reference: list[TimedWord], run: Run, speech: bytes, fault_s: float
) -> None:
    comparison = compare(
        reference, words(run.text()), windows=[(fault_s - SLACK_S, fault_s + SLACK_S)]
    )
    report = f"{comparison.summary()}; fault at {fault_s:.1f} s\n{comparison}\n{run.captions()}"
    print(report)
    # Two runs of the same audio differ by a word here and there (the streaming policy decodes
    # wherever the server's timing put its steps); a fault loses stretches of speech.
    assert not comparison.lost_runs_outside(min_words=2), report
    assert len(comparison.lost_outside) <= comparison.reference_words // 20, report
    assert not comparison.repeated_runs, report
    # The audio kept for the archive is the lecture's time line: no gap, nothing twice.
    assert run.log.first_offset_ms is not None
    expected_s = run.log.first_offset_ms / 1000 + len(speech) / 2 / SAMPLE_RATE
    assert kept_audio_s(run.lecture) == pytest.approx(expected_s, abs=0.1)


def test_a_server_killed_mid_broadcast_loses_no_word_and_hears_none_twice(
    world: World, server: DaphneProcess, speech: bytes
) -> None:
    reference = no_fault_words(world, server, speech)
    lecture = live_lecture(world)
    caster = broadcaster(world, server.base_url, lecture, speech).start()
    fault_s = wait_for_audio(caster, FAULT_AT_S)
    server.kill()
    time.sleep(1.0)
    server.start()  # the same port, database and LECTURE_AUDIO_ROOT: a restarted pod
    log = caster.join(timeout=300)

    assert log.disconnects() >= 1 and len(log.of("started")) >= 2  # it came back by itself
    # ... and resumed from the audio it had kept: at or before the moment the server died.
    assert log.first_offset_ms is not None
    resumed_ms = log.of("started")[1].detail["offset_ms"]
    assert resumed_ms <= log.first_offset_ms + fault_s * 1000
    end_lecture(world, server, lecture)
    assert_nothing_lost_or_twice(reference, Run(lecture, log), speech, fault_s)


@pytest.mark.parametrize("silently", [False, True], ids=["reset", "silent"])
def test_a_cut_connection_loses_no_word_and_hears_none_twice(
    world: World, server: DaphneProcess, speech: bytes, silently: bool
) -> None:
    reference = no_fault_words(world, server, speech)
    relay = CuttableRelay(server.port)
    try:
        lecture = live_lecture(world)
        caster = broadcaster(world, relay.base_url, lecture, speech).start()
        fault_s = wait_for_audio(caster, FAULT_AT_S)
        # The page sees a reset, or nothing (then, after 10 s without an ack, it gives the
        # socket up); the server's socket stays open and silent (a half-dead connection): the
        # reconnect takes the broadcast over (4010 to the old one).
        assert relay.cut(silently=silently) == 1
        log = caster.join(timeout=300)
    finally:
        relay.close()

    assert len(log.of("silent" if silently else "closed")) >= 1
    assert len(log.of("started")) >= 2
    end_lecture(world, server, lecture)
    assert_nothing_lost_or_twice(reference, Run(lecture, log), speech, fault_s)
