"""Acknowledged audio through the real application and the real model: the broadcaster is told
how far its audio is safe, a resend after a reconnect is placed on the lecture's time line and
never heard twice, and audio a dead session left uncaptioned becomes captions without anyone
asking (when the broadcast resumes, or when the lecture ends)."""

import itertools
import os
import signal
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from pytest_django import Settings

from captions import journal
from captions.models import TranscriptSegment
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.audio import kept_audio
from lectures.models import Lecture
from lectures.services import lecture_end
from ml.asr import SAMPLE_RATE
from ml.error_rates import word_error_rate
from ml.media import decode_media
from tests.captions.conftest import Socket
from tests.captions.test_audio_journal import start_writer
from tests.captions.test_broadcast_socket import (
    FRAME_BYTES,
    START,
    make_live,
    open_broadcast,
    stored,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

BYTES_PER_MS = 32


@pytest.fixture(scope="module")
def english_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory: Path = tmp_path_factory.mktemp("speech")
    return spoken_pcm16(ENGLISH_TEXT, "en-us", directory, then_silence_s=1.5)


async def send_audio(socket: Socket, pcm: bytes) -> None:
    for offset in range(0, len(pcm), FRAME_BYTES):
        await socket.send_bytes(pcm[offset : offset + FRAME_BYTES])


def spoken_text(lecture: Lecture) -> str:
    return " ".join(text for seq, text in stored(lecture) if seq > 1)  # seq 1: the fixture's


def no_word_repeated_across_captions(lecture: Lecture) -> bool:
    """A resend heard twice shows as a caption starting with the words the one before ended on."""
    texts = [text.lower().strip(".,?! ") for _, text in stored(lecture)]
    for before, after in itertools.pairwise(texts):
        tail = before.split()[-3:]
        if len(tail) == 3 and after.split()[:3] == tail:
            return False
    return True


async def test_the_broadcaster_is_told_how_far_its_audio_is_safe(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    socket = await open_broadcast(world, sockets)
    await socket.send_json(START)
    offset_ms = (await socket.receive_until("started"))["offset_ms"]
    await send_audio(socket, english_pcm[: 2 * SAMPLE_RATE * 2])
    ack = await socket.receive_until("ack", timeout=60)
    assert offset_ms < ack["stored_until_ms"] <= offset_ms + 2_000
    # What is acknowledged is on disk, at its place on the lecture's time line.
    segments = journal.segments(world.lecture.pk)
    assert len(segments) == 1 and segments[0].start_sample == journal.ms_to_sample(offset_ms)
    assert segments[0].read(segments[0].start_sample, journal.ms_to_sample(ack["stored_until_ms"]))
    await socket.send_json({"type": "stop"})
    assert await socket.closed_with(timeout=120) == 1000


async def test_a_resend_after_a_drop_is_placed_and_never_heard_twice(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    first = await open_broadcast(world, sockets)
    await first.send_json(START)
    offset_ms = (await first.receive_until("started"))["offset_ms"]
    cut = len(english_pcm) // 2 // FRAME_BYTES * FRAME_BYTES
    await send_audio(first, english_pcm[:cut])
    await first.receive_until("ack", timeout=60)
    await first.close()  # dropped without `stop`: its session captions what it got
    # The page kept everything after an older ack: it resends 3 s the server already has.
    resend_from = cut - 3_000 * BYTES_PER_MS
    again = await open_broadcast(world, sockets)
    await again.send_json({**START, "position_ms": offset_ms + resend_from // BYTES_PER_MS})
    started = await again.receive_until("started")
    assert started["offset_ms"] == offset_ms + resend_from // BYTES_PER_MS
    await send_audio(again, english_pcm[resend_from:])
    await again.send_json({"type": "stop"})
    assert await again.closed_with(timeout=180) == 1000

    spoken = await database_sync_to_async(spoken_text)(world.lecture)
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.2, spoken
    assert await database_sync_to_async(no_word_repeated_across_captions)(world.lecture), spoken
    # The journal holds each sample once: the second segment starts where the first ended.
    first_segment, second_segment = journal.segments(world.lecture.pk)
    assert second_segment.start_sample == first_segment.end_sample
    assert second_segment.end_sample - first_segment.start_sample == len(english_pcm) // 2

    # The lecture ends: its audio becomes the one file the archive plays, the speech in place.
    await database_sync_to_async(lecture_end)(lecture=world.lecture, by=world.instructor)
    path = kept_audio(world.lecture.pk)
    assert path is not None
    audio = decode_media(path)
    assert abs(audio.size / SAMPLE_RATE - (offset_ms / 1000 + len(english_pcm) / 32_000)) < 0.1


async def test_audio_a_killed_server_journalled_is_captioned_when_the_broadcast_resumes(
    world: World, sockets: list[Socket], english_pcm: bytes
) -> None:
    # A server process received the first 60 % of the speech, journalled it, and was killed
    # before its session stored a caption.
    cut = len(english_pcm) * 6 // 10 // FRAME_BYTES * FRAME_BYTES
    child = start_writer(world.lecture.pk, journal.ms_to_sample(1_000), english_pcm[:cut])
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # The page reconnects and resends from its last ack, 2 s before the journal's end.
    resend_from = cut - 2_000 * BYTES_PER_MS
    socket = await open_broadcast(world, sockets)
    await socket.send_json({**START, "position_ms": 1_000 + resend_from // BYTES_PER_MS})
    await socket.receive_until("started")
    await send_audio(socket, english_pcm[resend_from:])
    await socket.send_json({"type": "stop"})
    assert await socket.closed_with(timeout=240) == 1000

    captions = await database_sync_to_async(
        lambda: list(
            TranscriptSegment.objects.filter(lecture=world.lecture, seq__gt=1)
            .order_by("seq")
            .values_list("start_ms", "text")
        )
    )()
    spoken = " ".join(text for _, text in captions)
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.2, spoken
    assert await database_sync_to_async(no_word_repeated_across_captions)(world.lecture), spoken
    starts = [start for start, _ in captions]
    assert starts == sorted(starts) and starts[0] >= 1_000  # recovered first, in time order
    assert all(segment.done for segment in journal.segments(world.lecture.pk))


async def test_audio_a_killed_server_journalled_is_captioned_when_the_lecture_ends(
    world: World, english_pcm: bytes
) -> None:
    await database_sync_to_async(make_live)(world.lecture)
    child = start_writer(world.lecture.pk, journal.ms_to_sample(2_000), english_pcm)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # Nobody reconnects: the instructor ends the lecture from another device.
    await database_sync_to_async(lecture_end)(lecture=world.lecture, by=world.instructor)
    spoken = await database_sync_to_async(spoken_text)(world.lecture)
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.2, spoken
    assert journal.segments(world.lecture.pk) == []  # joined into the kept file
    path = kept_audio(world.lecture.pk)
    assert path is not None
    assert abs(decode_media(path).size / SAMPLE_RATE - (2.0 + len(english_pcm) / 32_000)) < 0.1


async def test_without_a_media_volume_captions_go_on_unacknowledged(
    world: World, sockets: list[Socket], english_pcm: bytes, tmp_path: Path, settings: Settings
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.LECTURE_AUDIO_ROOT = str(blocked / "audio")  # every write there fails
    socket = await open_broadcast(world, sockets)
    await socket.send_json(START)
    offset_ms = (await socket.receive_until("started"))["offset_ms"]
    await send_audio(socket, english_pcm)
    await socket.send_json({"type": "stop"})
    acks = []
    while (message := await socket.receive(timeout=180))["type"] != "stopped":
        if message["type"] == "ack":
            acks.append(message["stored_until_ms"])
    # Acks still come (a silent server looks dead to the page) but promise nothing new.
    assert acks and set(acks) == {offset_ms}
    spoken = await database_sync_to_async(spoken_text)(world.lecture)
    assert word_error_rate(ENGLISH_TEXT, spoken) < 0.2, spoken
