"""Live caption latency through a real Daphne server: N instructors stream speech, M viewers each.

    cd /work/main && .venv/bin/python bench/caption_latency.py --instructors 1,2,4 \\
        --viewers 1,100,500 --compare-offline --markdown

What one configuration (N instructors x M viewers per lecture) does:
- creates N courses, each with an instructor, M enrolled students and a live lecture, and a
  session cookie for every user (ORM work in this process, on the server's database);
- starts a fresh Daphne process (or uses `--url`), opens M viewer sockets per lecture, then one
  broadcaster socket per lecture that sends `start`, streams a ~60 s English lecture made by
  espeak-ng in 100 ms PCM16 frames at real-time pace, sends `stop` and reads `stopped`;
- records the arrival time of every `final` at every viewer. The latency of a final is its
  arrival minus the wall time its audio ended: arrival - (t0 + (end_ms - offset_ms) / 1000),
  where t0 is when the broadcaster's frame 0 was sent (frame k is sent at t0 + k * 0.1 s) and
  offset_ms comes from `started`;
- "first words": for each final, the first non-empty partial that arrived after the previous
  final (or the final itself if none did), minus the wall time that caption's audio began;
- after the run, compares each viewer's received seqs with the lecture's stored
  TranscriptSegment seqs: lost = stored but never received, duplicated = received twice.

Each lecture gets the same sentences, rotated (lecture i of N starts at sentence i*S/N) so that
concurrent lectures do not pause and finish sentences at the same instants. Before each measured
run a short warm-up broadcast on another lecture loads the Whisper model into the server.

Databases: a fresh SQLite file under var/bench/ by default; `--database-url postgres://...`
creates that (scratch, named hearus_bench*) database and drops it at the end. `--redis-url`
selects Redis for the channel layer and cache (a numbered db other than 0; flushed first and
last). With `--url` the server is yours: its database must be `--database-url`, nothing is
created or dropped, and its CPU is reported only with `--server-pid`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import hashlib
import itertools
import json
import os
import platform
import random
import re
import resource
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import wave
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/caption_latency.py`
    sys.path.insert(0, str(ROOT))

from hearus_testkit.daphne import daphne_process  # noqa: E402 - needs ROOT on sys.path

FloatAudio = npt.NDArray[np.float32]

BENCH_DIR = ROOT / "var" / "bench"
SAMPLE_RATE = 16_000
FRAME_S = 0.1
FRAME_BYTES = round(SAMPLE_RATE * FRAME_S) * 2
START = {"type": "start", "sample_rate": SAMPLE_RATE, "format": "pcm_s16le", "language": "en"}
LATENCY_TARGET_S = 3.0
LEAD_SILENCE_S = 0.5
TAIL_SILENCE_S = 1.5
PARAGRAPH_PAUSE_S = 0.8
SENTENCE_PAUSE_S = (0.3, 0.8)
CONNECT_CONCURRENCY = 32
CLK_TCK = os.sysconf("SC_CLK_TCK")

# A lecture of four paragraphs, about a minute of espeak-ng speech with its pauses.
PARAGRAPHS: tuple[tuple[str, ...], ...] = (
    (
        "Good morning, everyone, and welcome back to the course.",
        "Today we continue our study of machine learning.",
        "Last week we talked about linear regression and the idea of a loss function.",
        "This week we will look at how a model actually learns from data.",
    ),
    (
        "The key idea is called gradient descent.",
        "We start with random weights and measure the error on the training set.",
        "Then we move each weight a small step in the direction that reduces the error.",
        "The size of that step is called the learning rate.",
    ),
    (
        "If the learning rate is too large, the model jumps around and never settles.",
        "If it is too small, training takes a very long time.",
        "A good learning rate usually lies somewhere between these two extremes.",
        "In practice we try a few values and compare the results on a validation set.",
    ),
    (
        "Next time we will discuss overfitting and how to prevent it.",
        "Please read chapter four before the next lecture.",
        "Thank you, and see you on Thursday.",
    ),
)


# -- speech --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    text: str
    audio: FloatAudio
    onset_s: float  # where speech starts inside `audio` (espeak pads a little)
    pause_after_s: float


@dataclass(frozen=True)
class LectureAudio:
    rotation: int  # index of the sentence this lecture starts with
    pcm: bytes  # PCM16 little-endian, 16 kHz mono
    reference: str
    first_onset_s: float  # stream time where the first word begins

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / SAMPLE_RATE


def _silence(seconds: float) -> FloatAudio:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def _pcm16(audio: FloatAudio) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _onset_s(audio: FloatAudio) -> float:
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    return float(loud[0]) / SAMPLE_RATE if loud.size else 0.0


def load_sentences(seed: int) -> list[Sentence]:
    """The lecture's sentences spoken by espeak-ng; the whole lecture is cached as one WAV."""
    texts = [text for paragraph in PARAGRAPHS for text in paragraph]
    key = hashlib.sha1(json.dumps([texts, seed]).encode()).hexdigest()[:12]
    wav_path = BENCH_DIR / f"lecture-en-{key}.wav"
    manifest_path = wav_path.with_suffix(".json")
    if not (wav_path.is_file() and manifest_path.is_file()):
        _build_lecture_wav(seed, wav_path, manifest_path)
    from ml.audio import read_wav

    audio = read_wav(wav_path)
    manifest = json.loads(manifest_path.read_text())
    return [
        Sentence(
            text=item["text"],
            audio=audio[item["start"] : item["end"]],
            onset_s=item["onset_s"],
            pause_after_s=item["pause_after_s"],
        )
        for item in manifest["sentences"]
    ]


def _build_lecture_wav(seed: int, wav_path: Path, manifest_path: Path) -> None:
    from hearus_testkit.speech import synthesize

    speech_dir = BENCH_DIR / "speech"
    speech_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pieces: list[FloatAudio] = []
    items: list[dict[str, Any]] = []
    position = 0
    for p_index, paragraph in enumerate(PARAGRAPHS):
        for s_index, text in enumerate(paragraph):
            clip = synthesize(text, "en-us", speech_dir)
            last_of_paragraph = s_index == len(paragraph) - 1
            pause = PARAGRAPH_PAUSE_S if last_of_paragraph else rng.uniform(*SENTENCE_PAUSE_S)
            items.append(
                {
                    "text": text,
                    "paragraph": p_index,
                    "start": position,
                    "end": position + len(clip),
                    "onset_s": round(_onset_s(clip), 4),
                    "pause_after_s": round(pause, 3),
                }
            )
            pieces += [clip, _silence(pause)]
            position += len(clip) + len(pieces[-1])
    with wave.open(str(wav_path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(_pcm16(np.concatenate(pieces)))
    manifest_path.write_text(json.dumps({"seed": seed, "sentences": items}, indent=1))


def rotation_for(index: int, count: int, sentences: int) -> int:
    return round(index * sentences / count) % sentences


def lecture_audio(sentences: Sequence[Sentence], rotation: int) -> LectureAudio:
    """Leading silence, the sentences from `rotation` on (wrapping), each with its pause."""
    order = list(sentences[rotation:]) + list(sentences[:rotation])
    pieces: list[FloatAudio] = [_silence(LEAD_SILENCE_S)]
    for index, sentence in enumerate(order):
        last = index == len(order) - 1
        pause = TAIL_SILENCE_S if last else sentence.pause_after_s
        pieces += [sentence.audio, _silence(pause)]
    audio = np.concatenate(pieces)
    pcm = _pcm16(audio)
    pcm += b"\x00" * (-len(pcm) % FRAME_BYTES)  # whole frames
    return LectureAudio(
        rotation=rotation,
        pcm=pcm,
        reference=" ".join(sentence.text for sentence in order),
        first_onset_s=LEAD_SILENCE_S + order[0].onset_s,
    )


# -- database, Django, fixtures -------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    kind: str  # "sqlite" or "postgres"
    scratch_postgres: str = ""  # name of the database this run created (dropped at the end)


def _postgres_admin(url: str) -> tuple[str, str]:
    """(the maintenance-database URL, the database name) of a postgres:// URL."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    return admin, name


def _postgres_execute(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement.encode())


def prepare_database(database_url: str | None, *, own_server: bool, run_id: str) -> Database:
    if not database_url:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        path = BENCH_DIR / f"bench-{run_id}.sqlite3"
        database = Database(url=f"sqlite:///{path}", kind="sqlite")
    elif database_url.startswith(("postgres://", "postgresql://")):
        database = Database(url=database_url, kind="postgres")
        if own_server:
            admin, name = _postgres_admin(database_url)
            if not re.fullmatch(r"hearus_bench\w*", name):
                raise SystemExit(
                    f"refusing to (re)create database {name!r}: scratch names start hearus_bench"
                )
            _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _postgres_execute(admin, f'CREATE DATABASE "{name}"')
            database = Database(url=database_url, kind="postgres", scratch_postgres=name)
    elif database_url.startswith("sqlite:"):
        database = Database(url=database_url, kind="sqlite")
    else:
        raise SystemExit(f"unsupported --database-url {database_url!r}")
    if own_server:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=server_environment(database.url, None),
            check=True,
        )
    return database


def drop_scratch_database(database: Database) -> None:
    if not database.scratch_postgres:
        return
    from django.db import connections

    connections.close_all()
    admin, _name = _postgres_admin(database.url)
    _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{database.scratch_postgres}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def check_redis_url(url: str) -> None:
    db = urllib.parse.urlsplit(url).path.lstrip("/")
    if not db.isdigit() or db == "0":
        raise SystemExit("--redis-url must name a db number other than 0 (it is flushed), e.g. /9")


def server_environment(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def setup_django(database_url: str, redis_url: str | None) -> None:
    os.environ.update(server_environment(database_url, redis_url))
    if not redis_url:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


@dataclass(frozen=True)
class LecturePlan:
    lecture_id: int
    instructor_cookie: str
    viewer_cookies: list[str]
    audio: LectureAudio


def create_lectures(tag: str, audios: Sequence[LectureAudio], viewers: int) -> list[LecturePlan]:
    """A course per lecture: its instructor, `viewers` enrolled students, a live lecture."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from lectures.models import Course, Enrollment, Lecture

    store = SessionStore()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    unusable = make_password(None)  # no password hashing for thousands of users
    sessions: list[Session] = []

    def cookie_for(user: User) -> str:
        key = get_random_string(32, VALID_KEY_CHARS)
        data = store.encode(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        sessions.append(Session(session_key=key, session_data=data, expire_date=expires))
        return f"{settings.SESSION_COOKIE_NAME}={key}"

    plans: list[LecturePlan] = []
    with transaction.atomic():
        for index, audio in enumerate(audios):
            instructor = User.objects.create(
                username=f"{tag}-i{index}", role=User.Role.INSTRUCTOR, password=unusable
            )
            students = User.objects.bulk_create(
                [User(username=f"{tag}-c{index}-s{j}", password=unusable) for j in range(viewers)],
                batch_size=500,
            )
            course = Course.objects.create(
                code=f"{tag}-{index}", title=f"Benchmark course {index}", language="en"
            )
            course.instructors.add(instructor)
            Enrollment.objects.bulk_create(
                [Enrollment(course=course, student=student) for student in students],
                batch_size=500,
            )
            now = timezone.now()
            lecture = Lecture.objects.create(
                course=course,
                title=f"Benchmark lecture {index}",
                scheduled_at=now,
                status=Lecture.Status.LIVE,
                started_at=now,
            )
            plans.append(
                LecturePlan(
                    lecture_id=lecture.pk,
                    instructor_cookie=cookie_for(instructor),
                    viewer_cookies=[cookie_for(student) for student in students],
                    audio=audio,
                )
            )
        Session.objects.bulk_create(sessions, batch_size=500)
    return plans


@dataclass(frozen=True)
class StoredSegment:
    seq: int
    start_ms: int
    end_ms: int
    text: str
    created_at: float  # Unix time the server stored it


def stored_segments(lecture_ids: Sequence[int]) -> dict[int, list[StoredSegment]]:
    from django.db import close_old_connections

    from captions.models import TranscriptSegment

    result: dict[int, list[StoredSegment]] = {lecture_id: [] for lecture_id in lecture_ids}
    try:
        rows = TranscriptSegment.objects.filter(lecture_id__in=lecture_ids).order_by(
            "lecture_id", "seq"
        )
        for row in rows:
            result[row.lecture_id].append(
                StoredSegment(
                    row.seq, row.start_ms, row.end_ms, row.text, row.created_at.timestamp()
                )
            )
    finally:
        close_old_connections()
    return result


def stored_segments_in_thread(lecture_ids: Sequence[int]) -> dict[int, list[StoredSegment]]:
    """For asyncio.to_thread: the thread's own connection is closed afterwards."""
    from django.db import connection

    try:
        return stored_segments(lecture_ids)
    finally:
        connection.close()


# -- the server -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int | None
    log_path: Path | None


@contextlib.contextmanager
def daphne_server(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    with daphne_process(env, log_path) as (url, pid):
        yield Server(url=url, pid=pid, log_path=log_path)


def log_problems(log_path: Path | None) -> dict[str, int]:
    """ERROR and CRITICAL records of the server log: message (without its time) -> count."""
    if log_path is None or not log_path.is_file():
        return {}
    record = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) (.*)$")
    found: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        match = record.match(line)
        if match:
            found[f"{match.group(1)} {match.group(2)[:200]}"] += 1
    return dict(found)


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_busy_s() -> float:
    """CPU seconds all processes have used (every core), from the first line of /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(max_wait_s: float, threshold_pct: float) -> tuple[float, float]:
    """Wait (at most `max_wait_s`) until other processes use under `threshold_pct` of a core.

    Other people's test suites share this machine; a benchmark run beside them measures them.
    Returns (seconds waited, the last 5 s sample of CPU use in % of one core).
    """
    started = time.monotonic()
    while True:
        before = system_busy_s()
        time.sleep(5)
        busy_pct = 100 * (system_busy_s() - before) / 5
        waited = time.monotonic() - started
        if busy_pct < threshold_pct or waited >= max_wait_s:
            return waited, busy_pct
        print(f"  waiting for a quieter machine: {busy_pct:.0f}% of a core busy", flush=True)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        print(f"warning: open-file limit {target} < {needed} wanted", file=sys.stderr)


# -- the clients ----------------------------------------------------------------------------------


@dataclass
class Receipt:
    seq: int
    start_ms: int
    end_ms: int
    arrival: float  # time.monotonic()
    first_display: float  # first partial after the previous final, else `arrival`


@dataclass
class ViewerLog:
    lecture_index: int
    snapshot_seqs: list[int] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    partials: int = 0
    first_partial: float | None = None
    closed: str = ""  # why the socket closed before the bench closed it
    closing: bool = False

    @property
    def max_seq(self) -> int:
        seqs = [receipt.seq for receipt in self.receipts] + self.snapshot_seqs
        return max(seqs, default=0)


@dataclass
class BroadcastLog:
    lecture_index: int
    offset_ms: int = 0
    t0: float = 0.0
    t0_wall: float = 0.0  # t0 as Unix time, to compare with the server's created_at
    frames: int = 0
    max_send_lag_s: float = 0.0
    real_time_factor: float | None = None
    stop_sent: float = 0.0
    stopped_at: float = 0.0
    error: str = ""


def _ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + path


async def open_socket(base_url: str, path: str, cookie: str) -> ClientConnection:
    return await connect(
        _ws_url(base_url, path),
        origin=Origin(base_url),  # Channels checks the origin against ALLOWED_HOSTS
        additional_headers={"Cookie": cookie},
        open_timeout=120,
        ping_interval=None,  # the server pings; the bench must not close a slow server
        close_timeout=10,
        compression=None,
        proxy=None,
    )


async def read_viewer(ws: ClientConnection, log: ViewerLog) -> None:
    pending_display: float | None = None
    try:
        async for raw in ws:
            now = time.monotonic()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "final":
                first = pending_display if pending_display is not None else now
                log.receipts.append(
                    Receipt(message["seq"], message["start_ms"], message["end_ms"], now, first)
                )
                pending_display = None
            elif kind == "partial":
                log.partials += 1
                if message.get("text"):
                    if pending_display is None:
                        pending_display = now
                    if log.first_partial is None:
                        log.first_partial = now
            elif kind == "snapshot":
                log.snapshot_seqs += [item["seq"] for item in message["finals"]]
    except ConnectionClosed as closed:
        if not log.closing:
            log.closed = f"closed: {closed}"
        return
    if not log.closing:
        log.closed = f"closed by server: {ws.close_code} {ws.close_reason}"


async def connect_viewer(
    base_url: str, lecture_id: int, cookie: str, log: ViewerLog, limit: asyncio.Semaphore
) -> ClientConnection:
    async with limit:
        ws = await open_socket(base_url, f"/ws/lectures/{lecture_id}/captions/", cookie)
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
        if first.get("type") != "snapshot":
            raise RuntimeError(f"viewer of lecture {lecture_id} got {first}")
        log.snapshot_seqs += [item["seq"] for item in first["finals"]]
        return ws


class Broadcaster:
    """One instructor's socket: `start`, real-time frames, `stop`, `stopped`."""

    def __init__(self, base_url: str, plan: LecturePlan, log: BroadcastLog) -> None:
        self.base_url = base_url
        self.plan = plan
        self.log = log
        self.ws: ClientConnection | None = None
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        assert self.ws is not None
        reason = "closed"
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    continue
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "error":
                    self.log.error = f"{message.get('code')} {message.get('reason')}"
                waiter = self.waiters.get(kind)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
            reason = f"closed {self.ws.close_code} {self.ws.close_reason}"
        except ConnectionClosed as closed:
            reason = f"closed: {closed}"
        finally:
            for kind, waiter in self.waiters.items():
                if not waiter.done():
                    waiter.set_exception(RuntimeError(f"{reason} before {kind!r}"))
                    waiter.exception()  # retrieved here: nobody may be waiting for it any more

    async def _wait(self, kind: str, timeout: float) -> dict[str, Any]:
        return await asyncio.wait_for(asyncio.shield(self.waiters[kind]), timeout)

    async def prepare(self) -> None:
        """Connect, `ready`, `start`, `started` (the first start loads the model)."""
        loop = asyncio.get_running_loop()
        self.waiters = {kind: loop.create_future() for kind in ("ready", "started", "stopped")}
        path = f"/ws/lectures/{self.plan.lecture_id}/broadcast/"
        self.ws = await open_socket(self.base_url, path, self.plan.instructor_cookie)
        self.reader = asyncio.create_task(self._read())
        await self._wait("ready", 120)
        await self.ws.send(json.dumps(START))
        started = await self._wait("started", 300)
        self.log.offset_ms = int(started["offset_ms"])

    async def stream(self, t0: float, pcm: bytes | None = None, pace: float = 1.0) -> None:
        """Frame k at t0 + k * 0.1 s / pace (never sleep-accumulating), then `stop`."""
        assert self.ws is not None
        data = self.plan.audio.pcm if pcm is None else pcm
        self.log.t0 = t0
        self.log.t0_wall = time.time() - (time.monotonic() - t0)
        for k, offset in enumerate(range(0, len(data), FRAME_BYTES)):
            delay = t0 + k * FRAME_S / pace - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.log.max_send_lag_s = max(self.log.max_send_lag_s, -delay)
            await self.ws.send(data[offset : offset + FRAME_BYTES])
            self.log.frames += 1
        self.log.stop_sent = time.monotonic()
        await self.ws.send(json.dumps({"type": "stop"}))
        stopped = await self._wait("stopped", 600)
        self.log.stopped_at = time.monotonic()
        rtf = stopped.get("real_time_factor")
        self.log.real_time_factor = float(rtf) if rtf is not None else None

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 15)


@dataclass
class Measurement:
    viewers: list[ViewerLog]
    broadcasts: list[BroadcastLog]
    stored: dict[int, list[StoredSegment]]
    connect_s: float
    window_s: float
    server_cpu_s: float | None
    client_cpu_s: float
    system_cpu_s: float  # every process on the machine, ours included
    settled: bool
    settle_s: float


async def warm_up(base_url: str, plan: LecturePlan) -> None:
    """Load the model and run a few inferences on a lecture that is not measured."""
    log = BroadcastLog(lecture_index=-1)
    broadcaster = Broadcaster(base_url, plan, log)
    try:
        await broadcaster.prepare()
        # 4 s of speech at 1.4x real time (within the 1.5x rate limit)
        await broadcaster.stream(time.monotonic(), plan.audio.pcm[: 4 * SAMPLE_RATE * 2], 1.4)
    finally:
        await broadcaster.close()
    if log.error:
        raise RuntimeError(f"warm-up broadcast failed: {log.error}")


async def measure(
    server: Server,
    plans: Sequence[LecturePlan],
    warm_plan: LecturePlan | None,
    settle_timeout_s: float,
) -> Measurement:
    if warm_plan is not None:
        await warm_up(server.url, warm_plan)

    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    viewer_logs: list[ViewerLog] = []
    connecting = []
    for index, plan in enumerate(plans):
        for cookie in plan.viewer_cookies:
            log = ViewerLog(lecture_index=index)
            viewer_logs.append(log)
            connecting.append(connect_viewer(server.url, plan.lecture_id, cookie, log, limit))
    connect_started = time.monotonic()
    sockets = list(await asyncio.gather(*connecting))
    connect_s = time.monotonic() - connect_started
    readers = [
        asyncio.create_task(read_viewer(ws, log))
        for ws, log in zip(sockets, viewer_logs, strict=True)
    ]

    broadcast_logs = [BroadcastLog(lecture_index=index) for index in range(len(plans))]
    broadcasters = [
        Broadcaster(server.url, plan, log) for plan, log in zip(plans, broadcast_logs, strict=True)
    ]
    await asyncio.gather(*(broadcaster.prepare() for broadcaster in broadcasters))

    t0 = time.monotonic() + 1.0
    await asyncio.sleep(t0 - time.monotonic() - 0.05)
    server_cpu_start = process_cpu_s(server.pid) if server.pid else None
    client_cpu_start = process_cpu_s(os.getpid())
    system_cpu_start = system_busy_s()
    window_start = time.monotonic()
    results = await asyncio.gather(
        *(broadcaster.stream(t0) for broadcaster in broadcasters), return_exceptions=True
    )
    for broadcast_log, result in zip(broadcast_logs, results, strict=True):
        if isinstance(result, BaseException):
            broadcast_log.error = broadcast_log.error or f"{type(result).__name__}: {result}"

    # Every final is stored and published before `stopped`; wait until each viewer has the last.
    lecture_ids = [plan.lecture_id for plan in plans]
    stored = await asyncio.to_thread(stored_segments_in_thread, lecture_ids)
    last_seq = {
        index: (stored[plan.lecture_id][-1].seq if stored[plan.lecture_id] else 0)
        for index, plan in enumerate(plans)
    }
    settle_started = time.monotonic()
    settled = False
    while time.monotonic() - settle_started < settle_timeout_s:
        if all(log.max_seq >= last_seq[log.lecture_index] or log.closed for log in viewer_logs):
            settled = True
            break
        await asyncio.sleep(0.05)
    settle_s = time.monotonic() - settle_started
    window_s = time.monotonic() - window_start
    server_cpu_s = (
        process_cpu_s(server.pid) - server_cpu_start
        if server.pid and server_cpu_start is not None
        else None
    )
    client_cpu_s = process_cpu_s(os.getpid()) - client_cpu_start
    system_cpu_s = system_busy_s() - system_cpu_start
    # Re-read: a final stored after the first read (none expected) must count as lost, not vanish.
    stored = await asyncio.to_thread(stored_segments_in_thread, lecture_ids)

    for log in viewer_logs:
        log.closing = True
    await asyncio.gather(*(broadcaster.close() for broadcaster in broadcasters))

    async def close_viewer(ws: ClientConnection) -> None:
        async with limit:
            with contextlib.suppress(Exception):
                await ws.close()

    await asyncio.gather(*(close_viewer(ws) for ws in sockets))
    await asyncio.gather(*readers, return_exceptions=True)
    await asyncio.sleep(1.0)  # let the server run its disconnect handlers before it is stopped
    return Measurement(
        viewers=viewer_logs,
        broadcasts=broadcast_logs,
        stored=stored,
        connect_s=connect_s,
        window_s=window_s,
        server_cpu_s=server_cpu_s,
        client_cpu_s=client_cpu_s,
        system_cpu_s=system_cpu_s,
        settled=settled,
        settle_s=settle_s,
    )


# -- results --------------------------------------------------------------------------------------


@dataclass
class ConfigResult:
    setup: str
    instructors: int
    viewers: int
    audio_s: float
    finals_per_lecture: float
    receipts: int
    p50_s: float | None
    p95_s: float | None
    stored_p50_s: float | None  # created_at of the segment instead of arrival at a viewer
    stored_p95_s: float | None
    delivery_p50_s: float | None  # from created_at to arrival at a viewer
    delivery_p95_s: float | None
    max_s: float | None
    min_s: float | None
    first_words_p50_s: float | None
    first_words_p95_s: float | None
    first_partial_p50_s: float | None
    partials_per_viewer: float
    lost: int
    duplicated: int
    out_of_order_viewers: int
    viewers_closed_early: int
    rtf_mean: float | None
    server_cpu_pct: float | None
    client_cpu_pct: float
    # Every other process during the run (other people's tests, PostgreSQL, Redis), % of a core
    other_cpu_pct: float
    waited_for_quiet_s: float
    max_send_lag_ms: float
    connect_s: float
    settle_s: float
    settled: bool
    streamed_wer: float
    streamed_cer: float
    rotations: list[int]
    transcripts: list[str]
    broadcast_errors: list[str]
    server_log_problems: dict[str, int]
    server_log: str

    @property
    def name(self) -> str:
        return f"N={self.instructors} x M={self.viewers}"


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None


def summarize(
    setup: str,
    plans: Sequence[LecturePlan],
    viewers: int,
    measurement: Measurement,
    server: Server,
    waited_for_quiet_s: float,
) -> ConfigResult:
    from ml.metrics import character_error_rate, word_error_rate

    broadcasts = measurement.broadcasts
    latencies: list[float] = []
    first_words: list[float] = []
    first_partials: list[float] = []
    deliveries: list[float] = []
    lost = duplicated = out_of_order = 0
    for log in measurement.viewers:
        plan = plans[log.lecture_index]
        broadcast = broadcasts[log.lecture_index]
        stored_at = {
            segment.seq: segment.created_at for segment in measurement.stored[plan.lecture_id]
        }
        stored_seqs = set(stored_at)
        received = [receipt.seq for receipt in log.receipts] + log.snapshot_seqs
        counts = Counter(received)
        lost += len(stored_seqs - counts.keys())
        duplicated += sum(count - 1 for count in counts.values() if count > 1)
        seqs = [receipt.seq for receipt in log.receipts]
        out_of_order += any(b <= a for a, b in itertools.pairwise(seqs))
        for receipt in log.receipts:
            audio_end = broadcast.t0 + (receipt.end_ms - broadcast.offset_ms) / 1000
            audio_start = broadcast.t0 + (receipt.start_ms - broadcast.offset_ms) / 1000
            latencies.append(receipt.arrival - audio_end)
            first_words.append(receipt.first_display - audio_start)
            if receipt.seq in stored_at:  # stored -> on this viewer's screen
                arrival_wall = broadcast.t0_wall + (receipt.arrival - broadcast.t0)
                deliveries.append(arrival_wall - stored_at[receipt.seq])
        if log.first_partial is not None:
            first_partials.append(log.first_partial - (broadcast.t0 + plan.audio.first_onset_s))
    at_store = [
        segment.created_at
        - (broadcasts[index].t0_wall + (segment.end_ms - broadcasts[index].offset_ms) / 1000)
        for index, plan in enumerate(plans)
        for segment in measurement.stored[plan.lecture_id]
    ]
    transcripts = [
        " ".join(segment.text for segment in measurement.stored[plan.lecture_id]) for plan in plans
    ]
    references = [plan.audio.reference for plan in plans]
    rtfs = [log.real_time_factor for log in broadcasts if log.real_time_factor is not None]
    window = measurement.window_s
    return ConfigResult(
        setup=setup,
        instructors=len(plans),
        viewers=viewers,
        audio_s=round(plans[0].audio.duration_s, 2),
        finals_per_lecture=float(np.mean([len(measurement.stored[p.lecture_id]) for p in plans])),
        receipts=len(latencies),
        p50_s=_percentile(latencies, 50),
        p95_s=_percentile(latencies, 95),
        stored_p50_s=_percentile(at_store, 50),
        stored_p95_s=_percentile(at_store, 95),
        delivery_p50_s=_percentile(deliveries, 50),
        delivery_p95_s=_percentile(deliveries, 95),
        max_s=max(latencies, default=None),
        min_s=min(latencies, default=None),
        first_words_p50_s=_percentile(first_words, 50),
        first_words_p95_s=_percentile(first_words, 95),
        first_partial_p50_s=_percentile(first_partials, 50),
        partials_per_viewer=float(np.mean([log.partials for log in measurement.viewers] or [0])),
        lost=lost,
        duplicated=duplicated,
        out_of_order_viewers=out_of_order,
        viewers_closed_early=sum(bool(log.closed) for log in measurement.viewers),
        rtf_mean=float(np.mean(rtfs)) if rtfs else None,
        server_cpu_pct=(
            100 * measurement.server_cpu_s / window
            if measurement.server_cpu_s is not None
            else None
        ),
        client_cpu_pct=100 * measurement.client_cpu_s / window,
        other_cpu_pct=100
        * (measurement.system_cpu_s - measurement.client_cpu_s - (measurement.server_cpu_s or 0.0))
        / window,
        waited_for_quiet_s=waited_for_quiet_s,
        max_send_lag_ms=1000 * max(log.max_send_lag_s for log in broadcasts),
        connect_s=measurement.connect_s,
        settle_s=measurement.settle_s,
        settled=measurement.settled,
        streamed_wer=float(
            np.mean([word_error_rate(r, t) for r, t in zip(references, transcripts, strict=True)])
        ),
        streamed_cer=float(
            np.mean(
                [character_error_rate(r, t) for r, t in zip(references, transcripts, strict=True)]
            )
        ),
        rotations=[plan.audio.rotation for plan in plans],
        transcripts=transcripts,
        broadcast_errors=[log.error for log in broadcasts if log.error],
        server_log_problems=log_problems(server.log_path),
        server_log=str(server.log_path.relative_to(ROOT)) if server.log_path else "",
    )


@dataclass(frozen=True)
class OfflineResult:
    rotation: int
    wer: float
    cer: float
    seconds: float
    text: str


def transcribe_offline(
    sentences: Sequence[Sentence], rotations: Sequence[int]
) -> dict[int, OfflineResult]:
    """Whole-file transcription of each lecture audio by plain faster-whisper (greedy, VAD)."""
    from ml.asr import WhisperEngine
    from ml.audio import pcm16_to_float32
    from ml.metrics import character_error_rate, word_error_rate
    from ml.whisper_model import resolve_whisper_model

    engine = WhisperEngine.load(resolve_whisper_model("", ROOT / "var" / "models"))
    results: dict[int, OfflineResult] = {}
    for rotation in sorted(set(rotations)):
        audio = lecture_audio(sentences, rotation)
        started = time.perf_counter()
        segments, _info = engine.model.transcribe(
            pcm16_to_float32(audio.pcm),
            language="en",
            beam_size=1,
            temperature=0.0,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        text = " ".join(segment.text.strip() for segment in segments)
        seconds = time.perf_counter() - started
        results[rotation] = OfflineResult(
            rotation=rotation,
            wer=word_error_rate(audio.reference, text),
            cer=character_error_rate(audio.reference, text),
            seconds=seconds,
            text=text,
        )
    return results


def asr_call_costs(sentences: Sequence[Sentence]) -> dict[float, float]:
    """Seconds one live ASR call (`WhisperEngine.transcribe`, as the stream calls it) takes on
    this machine for audio windows of a few lengths: median of 3 calls each. The engine is the
    server's (`captions.asr.get_engine`: same model and settings, encoder window included)."""
    from captions.asr import get_engine
    from ml.audio import pcm16_to_float32

    engine = get_engine()
    audio = pcm16_to_float32(lecture_audio(sentences, 0).pcm)
    costs: dict[float, float] = {}
    for seconds in (1.0, 3.0, 6.0, 12.0):
        window = audio[: round(seconds * SAMPLE_RATE)]
        times = []
        for _ in range(3):
            started = time.perf_counter()
            engine.transcribe(window, language="en", prompt=None)
            times.append(time.perf_counter() - started)
        costs[seconds] = float(np.median(times))
    return costs


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def latency_table(results: Sequence[ConfigResult]) -> str:
    header = (
        "| config | finals/lecture | p50 s | p95 s | max s | p95 at store s | delivery p95 s "
        "| first words p50 s "
        "| lost | dup | ASR RTF | server CPU % | client CPU % | other CPU % | send lag max ms "
        "| p95 <= 3 s |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for r in results:
        verdict = "-" if r.p95_s is None else ("yes" if r.p95_s <= LATENCY_TARGET_S else "**no**")
        rtf = "-" if r.rtf_mean is None else f"{r.rtf_mean:.3f}"
        server_cpu = "-" if r.server_cpu_pct is None else f"{r.server_cpu_pct:.0f}"
        rows.append(
            f"| {r.name} | {r.finals_per_lecture:.1f} | {_s(r.p50_s)} | {_s(r.p95_s)} "
            f"| {_s(r.max_s)} | {_s(r.stored_p95_s)} | {_s(r.delivery_p95_s)} "
            f"| {_s(r.first_words_p50_s)} "
            f"| {r.lost} | {r.duplicated} | {rtf} "
            f"| {server_cpu} | {r.client_cpu_pct:.0f} | {max(0.0, r.other_cpu_pct):.0f} "
            f"| {r.max_send_lag_ms:.0f} | {verdict} |"
        )
    return header + "\n".join(rows) + "\n"


def accuracy_table(
    results: Sequence[ConfigResult], offline: dict[int, OfflineResult] | None
) -> str:
    header = "| config | streamed WER | streamed CER | offline WER | offline CER | WER change |\n"
    header += "|---|---:|---:|---:|---:|---:|\n"
    rows = []
    for r in results:
        off_wer = off_cer = None
        if offline is not None:
            off_wer = float(np.mean([offline[rotation].wer for rotation in r.rotations]))
            off_cer = float(np.mean([offline[rotation].cer for rotation in r.rotations]))
        change = "-" if off_wer is None else f"{100 * (r.streamed_wer - off_wer):+.1f} pt"
        rows.append(
            f"| {r.name} | {100 * r.streamed_wer:.1f}% | {100 * r.streamed_cer:.1f}% "
            f"| {'-' if off_wer is None else f'{100 * off_wer:.1f}%'} "
            f"| {'-' if off_cer is None else f'{100 * off_cer:.1f}%'} | {change} |"
        )
    return header + "\n".join(rows) + "\n"


def crossing_sentence(results: Sequence[ConfigResult]) -> str:
    """Per viewer count: the largest N whose p95 stays within the target."""
    parts = []
    for viewers in sorted({r.viewers for r in results}):
        row = sorted((r for r in results if r.viewers == viewers), key=lambda r: r.instructors)
        ok = [r.instructors for r in row if r.p95_s is not None and r.p95_s <= LATENCY_TARGET_S]
        failed = [r.instructors for r in row if r.p95_s is None or r.p95_s > LATENCY_TARGET_S]
        if not failed:
            parts.append(f"M={viewers}: p95 <= 3 s up to N={max(ok)} (all measured)")
        elif not ok:
            parts.append(f"M={viewers}: p95 > 3 s already at N={min(failed)}")
        else:
            parts.append(f"M={viewers}: p95 <= 3 s up to N={max(ok)}, > 3 s from N={min(failed)}")
    return "; ".join(parts)


def _costs_line(
    call_costs: dict[float, float] | None, offline: dict[int, OfflineResult] | None
) -> str:
    parts = []
    if call_costs:
        each = ", ".join(f"{audio:.0f} s: {cost:.2f} s" for audio, cost in call_costs.items())
        parts.append(f"- One live ASR call (`WhisperEngine.transcribe`) on this machine: {each}.")
    if offline:
        first = next(iter(offline.values()))
        parts.append(f"- Whole-file offline transcription of one lecture: {first.seconds:.1f} s.")
    return "\n".join(parts) + ("\n" if parts else "")


def problems_text(results: Sequence[ConfigResult], *, prefix: str) -> str:
    """Server log errors, broadcast errors and dropped viewers, per configuration."""
    lines = []
    for r in results:
        parts = [f"{count} x `{message}`" for message, count in r.server_log_problems.items()]
        parts += [
            f"{count} x broadcast refused `{error}`"
            for error, count in Counter(r.broadcast_errors).items()
        ]
        if r.viewers_closed_early:
            parts.append(f"{r.viewers_closed_early} viewers closed by the server")
        if not r.settled:
            parts.append("viewers did not all receive the last final within the settle time")
        if parts:
            where = r.server_log or "external server"
            lines.append(f"{prefix}{r.name} ({where}): {'; '.join(parts)}")
    return "\n".join(lines) if lines else f"{prefix}No server errors, broadcast errors or drops."


def hardware() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        match = re.search(r"^Model name:\s*(.+)$", lscpu, re.MULTILINE)
        if match:
            model = match.group(1).strip()
    memory = "unknown"
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        found = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
        if found:
            memory = f"{int(found.group(1)) / 1024**2:.1f} GiB"
    return f"{cpus} CPUs (nproc), {model}, {memory} RAM, Linux {platform.release()}"


@dataclass
class Report:
    """One invocation's results: what `--markdown` renders and `--from-json` reads back."""

    setup: str
    label: str
    command: str
    date: str
    hardware: str
    results: list[ConfigResult]
    offline: dict[int, OfflineResult] | None
    call_costs: dict[float, float] | None

    def save(self, path: Path) -> None:
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1))

    @classmethod
    def load(cls, path: Path) -> Report:
        data = json.loads(path.read_text())
        offline = data.get("offline")
        costs = data.get("call_costs")
        return cls(
            setup=data["setup"],
            label=data["label"],
            command=data["command"],
            date=data["date"],
            hardware=data["hardware"],
            results=[ConfigResult(**result) for result in data["results"]],
            offline=(
                {int(key): OfflineResult(**value) for key, value in offline.items()}
                if offline
                else None
            ),
            call_costs={float(key): value for key, value in costs.items()} if costs else None,
        )


def markdown_block(report: Report) -> str:
    results = report.results
    lines = [
        f"<!-- caption-latency:{report.label}:begin (generated by bench/caption_latency.py) -->",
        f"### {report.setup}",
        "",
        f"- Command: `{report.command}`",
        f"- Date: {report.date}",
        f"- Hardware: {report.hardware}; the bench client and the server share these CPUs.",
        f"- Audio: {results[0].audio_s:.1f} s English lecture by espeak-ng, 100 ms PCM16 frames "
        "at real-time pace.",
        f"- Target p95 <= {LATENCY_TARGET_S:.0f} s: {crossing_sentence(results)}.",
        "",
        latency_table(results),
        accuracy_table(results, report.offline),
        _costs_line(report.call_costs, report.offline),
        problems_text(results, prefix="- "),
        f"<!-- caption-latency:{report.label}:end -->",
    ]
    return "\n".join(lines) + "\n"


def print_report(report: Report) -> None:
    print(f"\n{report.setup}\n")
    print(latency_table(report.results))
    print(accuracy_table(report.results, report.offline))
    print(_costs_line(report.call_costs, report.offline))
    print(f"Target p95 <= {LATENCY_TARGET_S:.0f} s: {crossing_sentence(report.results)}")
    print(problems_text(report.results, prefix=""))


def update_markdown(path: Path, label: str, block: str) -> None:
    begin = f"<!-- caption-latency:{label}:begin"
    end = f"<!-- caption-latency:{label}:end -->"
    section = "## Live caption latency"
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _old, tail = rest.split(end, 1)
        text = head + block.rstrip("\n") + tail
    else:
        if section not in text:
            text = text.rstrip("\n") + f"\n\n{section}\n\n"
        start = text.index(section)
        following = text.find("\n## ", start + len(section))
        insert_at = len(text) if following < 0 else following + 1
        before = text[:insert_at].rstrip("\n") + "\n\n"
        text = before + block + ("\n" + text[insert_at:] if following >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# -- main -----------------------------------------------------------------------------------------


def _counts(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1,2,4; got {text!r}")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/caption_latency.py",
        description="Final-caption latency of the live caption path through a real Daphne.",
    )
    parser.add_argument("--instructors", type=_counts, default=[1], help="N values, e.g. 1,2,4")
    parser.add_argument(
        "--viewers", type=_counts, default=[1], help="M viewers per lecture, e.g. 1,100,500"
    )
    parser.add_argument("--database-url", help="postgres://.../hearus_bench (default: SQLite)")
    parser.add_argument("--redis-url", help="redis://127.0.0.1:6379/9 for the channel layer")
    parser.add_argument("--url", help="a running server (http://host:port) instead of a fresh one")
    parser.add_argument("--server-pid", type=int, help="with --url: the server's pid, for CPU")
    parser.add_argument("--compare-offline", action="store_true", help="WER vs whole-file ASR")
    parser.add_argument("--markdown", action="store_true", help="update the results table")
    parser.add_argument("--markdown-file", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--label", help="block name in the markdown (default: from the setup)")
    parser.add_argument(
        "--from-json", type=Path, help="render a saved var/bench/results-*.json; run nothing"
    )
    parser.add_argument("--seed", type=int, default=7, help="pause lengths of the lecture audio")
    parser.add_argument("--settle-timeout", type=float, default=30.0, help="s after `stopped`")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="before each configuration, wait up to this many s for other load to drop",
    )
    parser.add_argument(
        "--quiet-threshold", type=float, default=30.0, help="'quiet': %% of one core busy"
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        help="run a configuration again (up to this many times) when other processes used "
        "more than the quiet threshold during it; the least disturbed run is reported",
    )
    args = parser.parse_args(argv)
    if args.url and not args.database_url:
        parser.error("--url needs --database-url (the server's database)")
    if args.redis_url:
        check_redis_url(args.redis_url)
    return args


# Server settings a run may be given through the environment; named in the reported command.
REPORTED_SETTINGS = ("WHISPER_LIVE_ENCODER_WINDOW_S", "WHISPER_MODEL", "CHANNEL_LAYER")


def server_settings_prefix() -> str:
    """`NAME=value ` for each reported setting set in this environment (the server inherits it)."""
    return "".join(
        f"{name}={shlex.quote(os.environ[name])} "
        for name in REPORTED_SETTINGS
        if os.environ.get(name)
    )


def setup_name(database: Database, redis_url: str | None, external: bool) -> tuple[str, str]:
    db = "PostgreSQL" if database.kind == "postgres" else "SQLite"
    layer = "Redis channel layer" if redis_url else "in-memory channel layer"
    server = "external server" if external else "one Daphne process"
    label = ("postgres" if database.kind == "postgres" else "sqlite") + (
        "-redis" if redis_url else "-memory"
    )
    if label == "sqlite-memory":
        label = "embedded"
    if external:  # never overwrite the blocks of self-started servers
        label += "-external"
    return f"{db} + {layer}, {server}", label


def run(args: argparse.Namespace) -> int:
    run_id = datetime.datetime.now().strftime("%m%d%H%M%S")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    raise_fd_limit(4 * max(args.instructors) * max(args.viewers) + 1024)
    sentences = load_sentences(args.seed)
    own_server = not args.url
    database = prepare_database(args.database_url, own_server=own_server, run_id=run_id)
    setup, default_label = setup_name(database, args.redis_url, not own_server)
    label = args.label or default_label
    if args.redis_url and own_server:
        flush_redis(args.redis_url)
    results: list[ConfigResult] = []
    try:
        setup_django(database.url, args.redis_url)
        for instructors in args.instructors:
            for viewers in args.viewers:
                attempts: list[ConfigResult] = []
                for attempt in range(1 + args.retry_busy):
                    result = run_configuration(
                        args, run_id, setup, sentences, instructors, viewers, database, attempt
                    )
                    print(latency_table([result]), flush=True)
                    attempts.append(result)
                    if result.other_cpu_pct < args.quiet_threshold:
                        break
                    print(f"  other load {result.other_cpu_pct:.0f}% of a core: again", flush=True)
                # the run least disturbed by other processes
                results.append(min(attempts, key=lambda r: r.other_cpu_pct))
        offline = None
        call_costs = None
        if args.compare_offline:
            call_costs = asr_call_costs(sentences)
            rotations = [rotation for result in results for rotation in result.rotations]
            offline = transcribe_offline(sentences, rotations)
    finally:
        drop_scratch_database(database)
        if args.redis_url and own_server:
            flush_redis(args.redis_url)

    report = Report(
        setup=setup,
        label=label,
        command=server_settings_prefix()
        + "python bench/caption_latency.py "
        + shlex.join(sys.argv[1:]),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        hardware=hardware(),
        results=results,
        offline=offline,
        call_costs=call_costs,
    )
    out = BENCH_DIR / f"results-{label}-{run_id}.json"
    report.save(out)
    print_report(report)
    print(f"details: {out.relative_to(ROOT)}")
    if args.markdown:
        update_markdown(args.markdown_file, report.label, markdown_block(report))
        print(f"updated {args.markdown_file}")
    return 0


def render(args: argparse.Namespace) -> int:
    """`--from-json`: print (and with --markdown, write) a saved report without running."""
    report = Report.load(args.from_json)
    if args.label:
        report.label = args.label
    print_report(report)
    if args.markdown:
        update_markdown(args.markdown_file, report.label, markdown_block(report))
        print(f"updated {args.markdown_file}")
    return 0


def run_configuration(
    args: argparse.Namespace,
    run_id: str,
    setup: str,
    sentences: Sequence[Sentence],
    instructors: int,
    viewers: int,
    database: Database,
    attempt: int = 0,
) -> ConfigResult:
    suffix = f"-a{attempt}" if attempt else ""
    tag = f"b{run_id}n{instructors}m{viewers}{suffix}"
    audios = [
        lecture_audio(sentences, rotation_for(index, instructors, len(sentences)))
        for index in range(instructors)
    ]
    plans = create_lectures(tag, audios, viewers)
    own_server = not args.url
    warm_plan = create_lectures(f"{tag}w", audios[:1], 0)[0] if own_server else None
    print(
        f"{setup}: N={instructors} x M={viewers}, {audios[0].duration_s:.1f} s of audio ...",
        flush=True,
    )
    waited, busy = wait_for_quiet(args.quiet_wait, args.quiet_threshold)
    print(f"  started after {waited:.0f} s; other load {busy:.0f}% of a core", flush=True)
    if own_server:
        log_path = BENCH_DIR / f"daphne-{run_id}-n{instructors}-m{viewers}{suffix}.log"
        env = server_environment(database.url, args.redis_url)
        with daphne_server(env, log_path) as server:
            measurement = asyncio.run(measure(server, plans, warm_plan, args.settle_timeout))
    else:
        server = Server(url=args.url.rstrip("/"), pid=args.server_pid, log_path=None)
        measurement = asyncio.run(measure(server, plans, None, args.settle_timeout))
    raw_path = BENCH_DIR / f"raw-{run_id}-n{instructors}-m{viewers}{suffix}.json"
    write_raw(raw_path, plans, measurement)
    return summarize(setup, plans, viewers, measurement, server, waited)


def write_raw(path: Path, plans: Sequence[LecturePlan], measurement: Measurement) -> None:
    """Every receipt, for a second look: times in s from that lecture's t0."""
    lectures = []
    for index, plan in enumerate(plans):
        broadcast = measurement.broadcasts[index]
        lectures.append(
            {
                "lecture_id": plan.lecture_id,
                "rotation": plan.audio.rotation,
                "broadcast": asdict(broadcast),
                "stored": [
                    [s.seq, s.start_ms, s.end_ms, round(s.created_at - broadcast.t0_wall, 4)]
                    for s in measurement.stored[plan.lecture_id]
                ],
                "viewers_seq_arrival_firstdisplay": [
                    [
                        [
                            r.seq,
                            round(r.arrival - broadcast.t0, 4),
                            round(r.first_display - broadcast.t0, 4),
                        ]
                        for r in log.receipts
                    ]
                    for log in measurement.viewers
                    if log.lecture_index == index
                ],
            }
        )
    path.write_text(json.dumps({"lectures": lectures}))


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanup: server stopped, db dropped


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    return render(args) if args.from_json else run(args)


if __name__ == "__main__":
    raise SystemExit(main())
