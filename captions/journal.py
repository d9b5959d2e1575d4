"""The lecture's audio as it arrives: a journal on the media volume that outlives any crash.

Every broadcast connection appends what it receives to a segment of its own in the lecture's
audio folder (`lectures.audio.audio_dir`): `<first sample>-<token>.pcm`, raw 16 kHz mono PCM16
whose first sample lies at `<first sample>` on the lecture's time line (16 samples a millisecond,
0 = the lecture's start, as for captions), beside a `.json` with the language. Segments never
overlap: a connection that resends audio the journal already holds skips it (`place`).

A segment is held under an exclusive `flock` while its live session runs, and gets a `.done`
marker once everything it holds is in stored captions. The kernel drops the lock when the holder
dies, even by `kill -9`, so "not done and not locked" means exactly "its session died with audio
not yet captioned" (`claim_unfinished`): that audio is transcribed later (`captions.unheard`).
Writes go to the kernel at once (a crash of this process loses nothing written) and are fsynced
at least every second (`JournalWriter.sync`); the broadcaster is acknowledged up to the synced
sample. When the lecture ends the segments are joined into one Ogg Opus file (`keep_lecture_audio`).
"""

import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lectures.audio import audio_dir, encode_pending_audio, keep_pending_audio, kept_audio
from ml.asr import SAMPLE_RATE
from ml.media import decode_media

logger = logging.getLogger(__name__)

SAMPLES_PER_MS = SAMPLE_RATE // 1000
BYTES_PER_SAMPLE = 2
_CHUNK_SAMPLES = SAMPLE_RATE * 10  # how much is read or written at a time when joining


def ms_to_sample(ms: int) -> int:
    return ms * SAMPLES_PER_MS


def sample_to_ms(sample: int) -> int:
    return sample // SAMPLES_PER_MS


@dataclass(frozen=True)
class Placement:
    """Where a broadcast connection's audio lies on the lecture's time line (`place`)."""

    position_ms: int  # the first received sample's place, as told back in `started`
    skip_samples: int  # received samples the journal already holds: dropped, not heard twice
    session_start: int  # the sample where this connection's own segment begins

    @property
    def skip_bytes(self) -> int:
        return self.skip_samples * BYTES_PER_SAMPLE


def place(*, position_ms: int | None, elapsed_ms: int, journal_end: int) -> Placement:
    """Place a new connection's audio. A new page (no `position_ms`) starts now, and never
    inside audio the journal holds; a resuming page starts where it says, and whatever of its
    resent audio the journal already holds (up to `journal_end`) is skipped. The caller checks
    that `position_ms` is not in the future."""
    if position_ms is None:
        position_ms = max(elapsed_ms, sample_to_ms(journal_end + SAMPLES_PER_MS - 1))
    first_sample = ms_to_sample(position_ms)
    return Placement(
        position_ms=position_ms,
        skip_samples=max(0, journal_end - first_sample),
        session_start=max(first_sample, journal_end),
    )


@dataclass(frozen=True)
class Segment:
    """One connection's audio in the journal (as found on disk; it may still be growing)."""

    path: Path  # the .pcm file
    start_sample: int
    language: str

    @property
    def end_sample(self) -> int:
        try:
            return self.start_sample + self.path.stat().st_size // BYTES_PER_SAMPLE
        except FileNotFoundError:  # joined and removed meanwhile
            return self.start_sample

    @property
    def done_marker(self) -> Path:
        return self.path.with_suffix(".done")

    @property
    def done(self) -> bool:
        return self.done_marker.exists()

    def read(self, from_sample: int, to_sample: int | None = None) -> bytes:
        """The PCM16 bytes of [from_sample, to_sample) on the lecture's time line."""
        begin = max(0, from_sample - self.start_sample) * BYTES_PER_SAMPLE
        with self.path.open("rb") as file:
            file.seek(begin)
            if to_sample is None:
                data = file.read()
            else:
                data = file.read(max(0, to_sample - self.start_sample) * BYTES_PER_SAMPLE - begin)
        return data[: len(data) - len(data) % BYTES_PER_SAMPLE]

    def remove(self) -> None:
        for path in (self.path, self.path.with_suffix(".json"), self.done_marker):
            path.unlink(missing_ok=True)


def segments(lecture_id: int) -> list[Segment]:
    """The lecture's journal segments, in time order."""
    folder = audio_dir(lecture_id)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.pcm"):
        try:
            start = int(path.stem.split("-", 1)[0])
            meta = json.loads(path.with_suffix(".json").read_text())
        except (ValueError, OSError):
            continue  # being created right now, or not ours
        found.append(Segment(path=path, start_sample=start, language=str(meta["language"])))
    return sorted(found, key=lambda segment: (segment.start_sample, segment.path.name))


def end_sample(lecture_id: int) -> int:
    """The first sample on the lecture's time line after all audio received so far: the
    journal's segments, and the file kept before if the lecture was resumed (0: none)."""
    return max(
        (segment.end_sample for segment in segments(lecture_id)), default=_kept_end(lecture_id)
    )


def _kept_end_path(lecture_id: int) -> Path:
    return audio_dir(lecture_id) / "kept-end.json"


def _kept_end(lecture_id: int) -> int:
    try:
        return int(json.loads(_kept_end_path(lecture_id).read_text())["end_sample"])
    except (OSError, ValueError, KeyError):
        return 0


class JournalWriter:
    """One connection's segment, locked while its session runs (see the module docstring)."""

    def __init__(self, lecture_id: int, *, start_sample: int, language: str) -> None:
        folder = audio_dir(lecture_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{start_sample:012d}-{secrets.token_hex(4)}"
        self.path = folder / f"{name}.pcm"
        self.start_sample = start_sample
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh name: never held
        # The .json last: a segment without it is not listed, so nothing claims it half-made.
        meta = self.path.with_suffix(".json")
        meta.with_suffix(".tmp").write_text(json.dumps({"language": language}))
        meta.with_suffix(".tmp").replace(meta)
        self.written_samples = 0
        self.synced_samples = 0
        self.closed = False

    def append(self, pcm16: bytes) -> None:
        view = memoryview(pcm16)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.written_samples += len(pcm16) // BYTES_PER_SAMPLE

    def sync(self) -> int:
        """Make everything appended so far durable; returns the lecture sample it reaches.
        Blocking (fsync): call it off the event loop."""
        reached = self.written_samples
        if not self.closed:
            os.fsync(self._fd)
        self.synced_samples = max(self.synced_samples, reached)
        return self.start_sample + self.synced_samples

    @property
    def synced_until_ms(self) -> int:
        return sample_to_ms(self.start_sample + self.synced_samples)

    def close(self, *, transcribed: bool) -> None:
        """Release the segment; `transcribed`: every sample of it is in stored captions."""
        if self.closed:
            return
        self.closed = True
        try:
            if transcribed:
                os.fsync(self._fd)
                self.path.with_suffix(".done").touch()
        finally:
            os.close(self._fd)  # releases the lock


class ClaimedSegment:
    """An unfinished segment whose session died, locked by us until `release`."""

    def __init__(self, segment: Segment, fd: int) -> None:
        self.segment = segment
        self._fd = fd

    def mark_done(self) -> None:
        self.segment.done_marker.touch()

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def claim_unfinished(lecture_id: int) -> tuple[list[ClaimedSegment], int]:
    """The lecture's segments whose session died before their audio was captioned, locked for
    the caller, and how many unfinished segments are still held by a live session."""
    claimed: list[ClaimedSegment] = []
    held = 0
    for segment in segments(lecture_id):
        if segment.done:
            continue
        try:
            # Read-write: on NFS (EFS) flock is a POSIX write lock, which needs a writable fd.
            fd = os.open(segment.path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            held += 1
            continue
        if segment.done:  # finished between our look and our lock
            os.close(fd)
            continue
        claimed.append(ClaimedSegment(segment, fd))
    return claimed, held


# -- after the lecture: one file ------------------------------------------------------------------


def _timeline(pieces: list[tuple[int, Iterator[bytes]]]) -> Iterator[bytes]:
    """PCM16 chunks of the lecture's time line from pieces (first sample, chunks) in time order:
    silence where nothing was received, and what a piece repeats of the one before skipped."""
    cursor = 0
    silence = bytes(_CHUNK_SAMPLES * BYTES_PER_SAMPLE)
    for start, chunks in pieces:
        while cursor < start:
            gap = min(start - cursor, _CHUNK_SAMPLES)
            yield silence[: gap * BYTES_PER_SAMPLE]
            cursor += gap
        position = start
        for chunk in chunks:
            samples = len(chunk) // BYTES_PER_SAMPLE
            skip = max(0, cursor - position)
            if skip < samples:
                yield chunk[skip * BYTES_PER_SAMPLE :]
                cursor = position + samples
            position += samples


def _segment_chunks(segment: Segment) -> Iterator[bytes]:
    with segment.path.open("rb") as file:
        while chunk := file.read(_CHUNK_SAMPLES * BYTES_PER_SAMPLE):
            yield chunk[: len(chunk) - len(chunk) % BYTES_PER_SAMPLE]


def _kept_chunks(path: Path) -> Iterator[bytes]:
    audio = decode_media(path)  # a resumed lecture: what was kept before, then the new audio
    for begin in range(0, audio.size, _CHUNK_SAMPLES):
        piece = audio[begin : begin + _CHUNK_SAMPLES]
        yield (piece.clip(-1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


def keep_lecture_audio(lecture_id: int) -> bool:
    """Join the lecture's segments (and the audio kept before, if it was resumed) into its one
    Ogg Opus file, then remove them. Only once every segment is captioned (a segment joined
    before an earlier one would leave silence where that one belongs): returns False and
    changes nothing while one is still held or not yet captioned, and when there is none."""
    folder = audio_dir(lecture_id)
    if not folder.is_dir():
        return False
    with _joining(folder) as alone:
        if not alone:  # another process joins them right now
            return False
        return _join(lecture_id)


@contextlib.contextmanager
def _joining(folder: Path) -> Iterator[bool]:
    fd = os.open(folder / "join.lock", os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _join(lecture_id: int) -> bool:
    finished = segments(lecture_id)
    if not finished or not all(segment.done for segment in finished):
        return False
    pieces: list[tuple[int, Iterator[bytes]]] = []
    previous = kept_audio(lecture_id)
    if previous is not None:
        pieces.append((0, _kept_chunks(previous)))
    pieces += [(segment.start_sample, _segment_chunks(segment)) for segment in finished]
    pending, seconds = encode_pending_audio(lecture_id, _timeline(pieces))
    keep_pending_audio(lecture_id, pending)
    # Where the kept file ends, without decoding it: a resumed broadcast must not repeat it.
    _kept_end_path(lecture_id).write_text(json.dumps({"end_sample": round(seconds * SAMPLE_RATE)}))
    for segment in finished:
        with contextlib.suppress(OSError):
            segment.remove()
    logger.info("lecture audio kept", extra={"lecture_id": lecture_id, "segments": len(finished)})
    return True
