"""Faults against a production-like setup: one Daphne, its own Redis (channel layer, cache,
Celery broker), one Celery worker, SQLite or PostgreSQL. A broadcaster that behaves like the
broadcast page (hearus_testkit.broadcaster) streams ~25 s of English espeak speech in real time;
at 11 s into it one thing breaks:

- `redis`:  redis-server killed (-9) for 10 s, then started again empty on its port;
- `daphne`: the Daphne process killed (-9), started again on its port after 1 s;
- `cut`:    the broadcaster's TCP connection cut (a reset on the page's side, the server's side
            left open and silent);
- `silent`: the same, but the page's side is told nothing either (it gives the socket up after
            BROADCASTER_SILENCE_LIMIT_S without a message);
- `worker`: a lecture of 1,200 stored Korean captions is ended and the Celery pool child is
            killed (-9) while it computes the notes (no broadcast: the notes of a 25 s
            broadcast take 0.1 s, too quick to kill).

Each run is compared with a fault-free run of the same audio (hearus_testkit.transcripts): words
lost (and how many of them lie outside the fault ± 1 s), words recognised differently, words
added, 3-word runs stored twice; `none` is a second fault-free run, the noise floor. Recovery:
*reconnect* = from the fault to the next `started` (the broadcaster streaming again); *captions*
= from the fault to the first caption stored for audio after the fault; for `worker`, from the
kill to the lecture being `ready` (and how many summaries it has: 1 is right).

    python -m bench.faults
    python -m bench.faults --database-url postgres://postgres@127.0.0.1:5432/hearus_bench_faults

The PostgreSQL database named is created and dropped by the run (its name must start
hearus_bench). Results in docs/benchmarks.md ("Faults").
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.caption_latency import BENCH_DIR
from bench.caption_latency.database import (
    drop_scratch_database,
    prepare_database,
    server_environment,
    setup_django,
)
from bench.caption_latency.machine import hardware
from hearus_testkit.broadcaster import Broadcaster, BroadcastLog
from hearus_testkit.celery_worker import CeleryWorker
from hearus_testkit.daphne import DaphneProcess
from hearus_testkit.proxy import CuttableRelay
from hearus_testkit.redis_server import OwnRedis
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import LONGER_ENGLISH_TEXT
from hearus_testkit.transcripts import TimedWord, compare, timed_words, words

FAULTS = ("none", "redis", "daphne", "cut", "silent", "worker")
FAULT_AT_S = 11.0
REDIS_DOWN_S = 10.0
DAPHNE_DOWN_S = 1.0
SLACK_S = 1.0


@dataclass
class Setup:
    daphne: DaphneProcess
    redis: OwnRedis
    worker: CeleryWorker
    speech: bytes
    instructor_id: int
    course_id: int


@dataclass(frozen=True)
class Row:
    fault: str
    words: str = "-"  # lost of the reference's (outside the fault's window)
    substituted: str = "-"
    added: str = "-"
    repeated_runs: str = "-"
    reconnect_s: float | None = None
    captions_s: float | None = None
    kept_audio: str = "-"
    notes: str = ""

    def line(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        return (
            f"| {self.fault} | {self.words} | {self.substituted} | {self.added} "
            f"| {self.repeated_runs} | {seconds(self.reconnect_s)} | {seconds(self.captions_s)} "
            f"| {self.kept_audio} | {self.notes} |"
        )


HEADER = (
    "| fault | words lost (outside fault ± 1 s) | recognised differently | added "
    "| 3-word runs twice | reconnect s | captions s | kept audio | notes |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def new_lecture(setup: Setup) -> tuple[int, str]:
    """A live lecture started now, and the instructor's session cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import User
    from lectures.models import Course
    from lectures.services import lecture_create, lecture_start

    instructor = User.objects.get(pk=setup.instructor_id)
    lecture = lecture_create(
        course=Course.objects.get(pk=setup.course_id),
        by=instructor,
        title="Gradient descent",
        scheduled_at=timezone.now() + timedelta(minutes=1),
    )
    lecture_start(lecture=lecture, by=instructor)
    session = SessionStore()
    session[SESSION_KEY] = str(instructor.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = instructor.get_session_auth_hash()
    session.save()
    return lecture.pk, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def end_lecture(setup: Setup, lecture_id: int) -> None:
    from knox.models import AuthToken

    from accounts.models import User

    _instance, token = AuthToken.objects.create(user=User.objects.get(pk=setup.instructor_id))
    request = urllib.request.Request(
        f"{setup.daphne.base_url}/api/lectures/{lecture_id}/end/",
        method="POST",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def captions(lecture_id: int) -> list[tuple[int, int, str, float]]:
    from django.db import close_old_connections

    from captions.models import TranscriptSegment

    try:
        return [
            (row.start_ms, row.end_ms, row.text, row.created_at.timestamp())
            for row in TranscriptSegment.objects.filter(lecture_id=lecture_id).order_by("seq")
        ]
    finally:
        close_old_connections()


def lecture_state(lecture_id: int) -> tuple[str, int]:
    from django.db import close_old_connections

    from lectures.models import Lecture, Summary

    try:
        status = Lecture.objects.values_list("status", flat=True).get(pk=lecture_id)
        return str(status), Summary.objects.filter(lecture_id=lecture_id).count()
    finally:
        close_old_connections()


def wait_for_status(lecture_id: int, wanted: set[str], timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while (status := lecture_state(lecture_id)[0]) not in wanted:
        if time.monotonic() > deadline:
            return status
        time.sleep(0.2)
    return status


def kept_audio_s(lecture_id: int, timeout_s: float = 300) -> float | None:
    from lectures.audio import kept_audio
    from ml.asr import SAMPLE_RATE
    from ml.media import decode_media

    deadline = time.monotonic() + timeout_s
    while (path := kept_audio(lecture_id)) is None:
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)
    return float(decode_media(path).size / SAMPLE_RATE)


def broadcast(setup: Setup, fault: str) -> tuple[int, BroadcastLog, float, float, float]:
    """One broadcast with `fault` at FAULT_AT_S: (lecture, log, fault's audio position s,
    the fault's wall time, the fault's time in the log's clock)."""
    lecture_id, cookie = new_lecture(setup)
    relay = CuttableRelay(setup.daphne.port) if fault in ("cut", "silent") else None
    base_url = relay.base_url if relay else setup.daphne.base_url
    caster = Broadcaster(base_url, lecture_id, cookie, setup.speech).start()
    try:
        while caster.audio_position_s() < FAULT_AT_S:
            time.sleep(0.02)
        fault_audio_s, fault_wall, fault_elapsed = (
            caster.audio_position_s(),
            time.time(),
            caster.elapsed(),
        )
        if fault == "redis":
            setup.redis.kill()
            time.sleep(REDIS_DOWN_S)
            setup.redis.start()
        elif fault == "daphne":
            setup.daphne.kill()
            time.sleep(DAPHNE_DOWN_S)
            setup.daphne.start()
        elif relay is not None:
            relay.cut(silently=fault == "silent")
        log = caster.join(timeout=600)
    finally:
        if relay is not None:
            relay.close()
    return lecture_id, log, fault_audio_s, fault_wall, fault_elapsed


def measure(setup: Setup, fault: str, reference: list[TimedWord]) -> Row:
    lecture_id, log, fault_audio_s, fault_wall, fault_elapsed = broadcast(setup, fault)
    end_lecture(setup, lecture_id)
    assert log.first_offset_ms is not None
    stored = captions(lecture_id)
    fault_end_s = fault_audio_s + (REDIS_DOWN_S if fault == "redis" else 0.0)
    windows = [] if fault == "none" else [(fault_audio_s - SLACK_S, fault_end_s + SLACK_S)]
    comparison = compare(reference, words(" ".join(text for _, _, text, _ in stored)), windows)
    reconnect_s = next(
        (event.at - fault_elapsed for event in log.of("started") if event.at > fault_elapsed),
        None,
    )
    after_fault_ms = log.first_offset_ms + fault_audio_s * 1000
    stored_after = [created for start, _, _, created in stored if start >= after_fault_ms]
    expected_s = log.first_offset_ms / 1000 + len(setup.speech) / 32_000
    kept = kept_audio_s(lecture_id)
    print(f"  {fault}: {comparison.summary()}", flush=True)
    for _, _, text, _ in stored:
        print(f"    {text}")
    return Row(
        fault=fault,
        words=f"{len(comparison.lost)} of {comparison.reference_words} "
        f"({len(comparison.lost_outside)})",
        substituted=str(comparison.substituted),
        added=str(len(comparison.added)),
        repeated_runs=str(len(comparison.repeated_runs)),
        reconnect_s=reconnect_s,
        captions_s=min(stored_after) - fault_wall if stored_after else None,
        kept_audio="-" if kept is None else f"{kept:.2f} of {expected_s:.2f} s",
        notes=f"{log.disconnects() + len(log.of('silent'))} drop(s), "
        f"{log.resent_ms / 1000:.1f} s resent",
    )


def measure_worker(setup: Setup) -> Row:
    """The notes of a long lecture, their worker's pool child killed while computing them."""
    from django.utils import timezone

    from captions.models import TranscriptSegment
    from hearus_testkit.texts import synthetic_lecture
    from lectures.models import Course, Lecture

    course = Course.objects.get(pk=setup.course_id)
    korean = Course.objects.create(code=f"{course.code}k", title="Faults (ko)", language="ko")
    korean.instructors.set(course.instructors.all())
    now = timezone.now()
    lecture = Lecture.objects.create(
        course=korean, title="Notes", scheduled_at=now, status=Lecture.Status.LIVE, started_at=now
    )
    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            lecture=lecture, seq=seq, start_ms=seq * 4000, end_ms=seq * 4000 + 3500, text=text
        )
        for seq, text in synthetic_lecture(1200)
    )
    end_lecture(setup, lecture.pk)
    status = wait_for_status(lecture.pk, {"processing", "ready", "failed"}, 300)
    if status != "processing":
        return Row(fault="worker", notes=f"notes finished before the kill ({status})")
    time.sleep(0.5)  # inside the task
    killed = time.time()
    setup.worker.kill_pool_child()
    final = wait_for_status(lecture.pk, {"ready", "failed"}, 900)
    summaries = lecture_state(lecture.pk)[1]
    return Row(
        fault="worker",
        captions_s=time.time() - killed,
        notes=f"pool child killed during the notes: {final}, {summaries} set(s) of notes; "
        "captions s = kill to ready",
    )


def make_people() -> tuple[int, int]:
    from accounts.models import User
    from lectures.models import Course

    tag = uuid.uuid4().hex[:6]
    instructor = User.objects.create_user(username=f"faults-{tag}", role=User.Role.INSTRUCTOR)
    course = Course.objects.create(code=f"F{tag}", title="Faults", language="en")
    course.instructors.add(instructor)
    return instructor.pk, course.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="postgres://.../hearus_bench_faults")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated")
    args = parser.parse_args()
    faults = [name for name in args.faults.split(",") if name]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown faults: {sorted(unknown)}")

    run_id = uuid.uuid4().hex[:8]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    audio_root = BENCH_DIR / f"faults-audio-{run_id}"
    os.environ["LECTURE_AUDIO_ROOT"] = str(audio_root)  # the server, the worker and us
    redis = OwnRedis()
    redis.start()
    database = prepare_database(args.database_url, own_server=True, run_id=run_id)
    env = server_environment(database.url, redis.url)
    setup_django(database.url, redis.url)
    speech = spoken_pcm16(LONGER_ENGLISH_TEXT, "en-us", BENCH_DIR, then_silence_s=1.5)
    daphne = DaphneProcess(env, BENCH_DIR / f"faults-daphne-{run_id}.log")
    worker = CeleryWorker(env, BENCH_DIR / f"faults-worker-{run_id}.log")
    instructor_id, course_id = make_people()
    setup = Setup(daphne, redis, worker, speech, instructor_id, course_id)
    print(f"machine: {hardware()}; load: {Path('/proc/loadavg').read_text().strip()}")
    print(f"database: {database.kind}; speech: {len(speech) / 32_000:.1f} s; run {run_id}")
    rows: list[Row] = []
    try:
        daphne.start()
        worker.start()
        # Warm-up (the model loads on the first `start`), then the reference run.
        lecture_id, cookie = new_lecture(setup)
        Broadcaster(daphne.base_url, lecture_id, cookie, speech[: 2 * 32_000]).run()
        lecture_id, log, *_ = broadcast(setup, "none")
        assert log.first_offset_ms is not None
        reference = timed_words(
            [(start, end, text) for start, end, text, _ in captions(lecture_id)],
            log.first_offset_ms,
        )
        print(f"reference: {len(reference)} words", flush=True)
        for fault in faults:
            if fault == "worker":
                rows.append(measure_worker(setup))
            else:
                rows.append(measure(setup, fault, reference))
    finally:
        worker.stop()
        daphne.stop()
        redis.stop()
        drop_scratch_database(database)
        shutil.rmtree(audio_root, ignore_errors=True)
    print(HEADER)
    for row in rows:
        print(row.line())
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
