"""The lecture's audio journal (captions.journal): kept as it arrives, locked by the live session
that writes it, claimable once that session's process is dead, joined into one file after."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from django.conf import settings
from pytest_django import Settings

from captions import journal
from lectures.audio import kept_audio
from ml.asr import SAMPLE_RATE
from ml.media import decode_media

ROOT = Path(__file__).resolve().parents[2]

# A broadcasting process that wrote one second of audio and then died with its session open.
WRITER = """
import os, sys, time
import django
django.setup()
from captions import journal
writer = journal.JournalWriter(int(sys.argv[1]), start_sample=int(sys.argv[2]), language="en")
writer.append(sys.stdin.buffer.read())
print("written", flush=True)
time.sleep(600)
"""


def tone(seconds: float, frequency: float = 440.0) -> bytes:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * frequency * t) * 9000).astype("<i2").tobytes()


def start_writer(lecture_id: int, start_sample: int, pcm: bytes) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "LECTURE_AUDIO_ROOT": str(settings.LECTURE_AUDIO_ROOT),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(lecture_id), str(start_sample)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(pcm)
    child.stdin.close()
    assert child.stdout.readline().strip() == b"written"
    return child


def test_a_segment_is_held_while_its_writer_lives_and_claimable_once_it_is_killed(
    tmp_path: Path, settings: Settings
) -> None:
    settings.LECTURE_AUDIO_ROOT = str(tmp_path)
    audio = tone(1.0)
    child = start_writer(41, journal.ms_to_sample(5_000), audio)
    try:
        claimed, held = journal.claim_unfinished(41)
        assert (claimed, held) == ([], 1)
        assert journal.end_sample(41) == journal.ms_to_sample(6_000)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    claimed, held = journal.claim_unfinished(41)
    assert held == 0 and len(claimed) == 1
    segment = claimed[0].segment
    # Everything written before the kill is there: the kernel had it, not the dead process.
    assert segment.read(segment.start_sample) == audio
    assert (
        segment.read(journal.ms_to_sample(5_500), journal.ms_to_sample(5_750))
        == audio[16_000:24_000]
    )
    # While we hold it, nobody else can claim it.
    assert journal.claim_unfinished(41) == ([], 1)
    claimed[0].mark_done()
    claimed[0].release()
    assert journal.claim_unfinished(41) == ([], 0)


def test_segments_are_joined_on_the_lecture_time_line_and_a_resume_adds_to_the_file(
    tmp_path: Path, settings: Settings
) -> None:
    settings.LECTURE_AUDIO_ROOT = str(tmp_path)
    first = journal.JournalWriter(42, start_sample=0, language="ko")
    first.append(tone(1.0))
    assert first.sync() == SAMPLE_RATE and first.synced_until_ms == 1_000
    second = journal.JournalWriter(42, start_sample=2 * SAMPLE_RATE, language="ko")
    second.append(tone(1.0, 660.0))
    first.close(transcribed=True)
    # Not while a session still holds a segment: joining now would leave a hole later.
    assert journal.keep_lecture_audio(42) is False
    second.close(transcribed=True)
    assert journal.keep_lecture_audio(42) is True
    assert journal.segments(42) == []
    path = kept_audio(42)
    assert path is not None
    audio = decode_media(path)
    assert abs(audio.size / SAMPLE_RATE - 3.0) < 0.05

    def loudness(start_s: float, end_s: float) -> float:
        piece = audio[round(start_s * SAMPLE_RATE) : round(end_s * SAMPLE_RATE)]
        return float(np.sqrt(np.mean(piece**2)))

    assert loudness(0.1, 0.9) > 0.1 and loudness(2.1, 2.9) > 0.1
    assert loudness(1.1, 1.9) < 0.01  # nothing was received there: silence, not a shift

    # Resumed after an end by mistake: what is kept counts as received (a resend skips it), and
    # the new audio is added at its place on the time line.
    assert journal.end_sample(42) == 3 * SAMPLE_RATE
    third = journal.JournalWriter(42, start_sample=4 * SAMPLE_RATE, language="ko")
    third.append(tone(0.5))
    third.close(transcribed=True)
    assert journal.keep_lecture_audio(42) is True
    audio = decode_media(path)
    assert abs(audio.size / SAMPLE_RATE - 4.5) < 0.05
    assert loudness(0.1, 0.9) > 0.1 and loudness(4.1, 4.4) > 0.1


def test_a_new_page_starts_now_and_never_inside_audio_the_journal_holds() -> None:
    # 5 s into the lecture, with nothing journalled: the audio begins at 5 s.
    assert journal.place(position_ms=None, elapsed_ms=5000, journal_end=0) == journal.Placement(
        position_ms=5000, skip_samples=0, session_start=5000 * journal.SAMPLES_PER_MS
    )
    # A journal reaching past the clock (a page that resent ahead of it): after its end, rounded
    # up to the millisecond, so the new segment cannot overlap it.
    end = 7000 * journal.SAMPLES_PER_MS + 3
    placed = journal.place(position_ms=None, elapsed_ms=5000, journal_end=end)
    assert placed.position_ms == 7001
    assert placed.skip_samples == 0
    assert placed.session_start == 7001 * journal.SAMPLES_PER_MS


def test_a_resume_skips_exactly_what_the_journal_already_holds() -> None:
    end = 12_000 * journal.SAMPLES_PER_MS
    placed = journal.place(position_ms=10_000, elapsed_ms=20_000, journal_end=end)
    assert placed.position_ms == 10_000  # told back as sent: the page counts from there
    assert placed.skip_samples == 2000 * journal.SAMPLES_PER_MS
    assert placed.skip_bytes == placed.skip_samples * journal.BYTES_PER_SAMPLE
    assert placed.session_start == end
    # Resuming after a gap (audio the journal never got): nothing skipped, the segment starts
    # where the page's audio does.
    placed = journal.place(position_ms=15_000, elapsed_ms=20_000, journal_end=end)
    assert (placed.skip_samples, placed.session_start) == (0, 15_000 * journal.SAMPLES_PER_MS)
