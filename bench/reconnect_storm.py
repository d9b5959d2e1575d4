"""A reconnect storm: N viewers of one live lecture (re)join within a few seconds, as after a
deploy or a lecture hall's Wi-Fi coming back, against a fresh Daphne. Prints how many were
admitted with their snapshot, how many failed, and the admission times (connect -> snapshot).

    python -m bench.reconnect_storm                       # embedded (SQLite, in-memory layer)
    python -m bench.reconnect_storm --viewers 1000 --spread 10 \\
        --database-url postgres://postgres@127.0.0.1:5432/hearus_bench_storm \\
        --redis-url redis://127.0.0.1:6379/9

Target (issue 12): 1,000 viewers joining within 10 s all admitted within 30 s on a 2-core
machine. Results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass

from bench.caption_latency.database import (
    check_redis_url,
    drop_scratch_database,
    flush_redis,
    prepare_database,
    server_environment,
    setup_django,
)
from bench.caption_latency.fixtures import create_lectures
from bench.caption_latency.lecture import LectureAudio
from bench.caption_latency.machine import hardware
from bench.caption_latency.server import daphne_server
from hearus_testkit import ROOT

CAPTIONS_IN_SNAPSHOT = 200  # a lecture some way in: each snapshot carries its finals


@dataclass(frozen=True)
class Join:
    ok: bool
    seconds: float
    error: str = ""


async def join(url: str, cookie: str, delay_s: float, timeout_s: float) -> Join:
    import websockets

    await asyncio.sleep(delay_s)
    started = time.monotonic()
    try:
        async with websockets.connect(
            url,
            origin=websockets.Origin(url.split("/ws/")[0].replace("ws://", "http://")),
            additional_headers={"Cookie": cookie},
            open_timeout=timeout_s,
            max_size=None,
        ) as socket:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout_s))
            if message.get("type") != "snapshot":
                return Join(False, time.monotonic() - started, f"got {message.get('type')}")
            return Join(True, time.monotonic() - started)
    except Exception as error:
        return Join(False, time.monotonic() - started, type(error).__name__)


async def storm(url: str, cookies: list[str], spread_s: float, timeout_s: float) -> list[Join]:
    rng = random.Random(0)
    return await asyncio.gather(
        *(join(url, cookie, rng.uniform(0, spread_s), timeout_s) for cookie in cookies)
    )


def add_captions(lecture_id: int, count: int) -> None:
    from captions.models import TranscriptSegment

    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            lecture_id=lecture_id,
            seq=seq,
            start_ms=seq * 3000,
            end_ms=seq * 3000 + 2500,
            text=f"Caption number {seq} of a lecture some way in.",
        )
        for seq in range(1, count + 1)
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which they join")
    parser.add_argument("--timeout", type=float, default=30.0, help="per join, seconds")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    if args.redis_url:
        check_redis_url(args.redis_url)
        flush_redis(args.redis_url)

    run_id = uuid.uuid4().hex[:8]
    database = prepare_database(args.database_url or None, own_server=True, run_id=run_id)
    setup_django(database.url, args.redis_url or None)
    try:
        audio = LectureAudio(rotation=0, pcm=b"", reference="", first_onset_s=0.0)  # no speech
        plan = create_lectures(f"storm{run_id}", [audio], args.viewers)[0]
        add_captions(plan.lecture_id, CAPTIONS_IN_SNAPSHOT)
        env = server_environment(database.url, args.redis_url or None)
        log = ROOT / "var" / f"bench-storm-{run_id}.log"
        with daphne_server(env, log) as server:
            url = server.url.replace("http://", "ws://") + (
                f"/ws/lectures/{plan.lecture_id}/captions/?after=0"
            )
            started = time.monotonic()
            joins = asyncio.run(storm(url, plan.viewer_cookies, args.spread, args.timeout))
            wall = time.monotonic() - started
    finally:
        drop_scratch_database(database)

    admitted = [j.seconds for j in joins if j.ok]
    errors: dict[str, int] = {}
    for failed in (j for j in joins if not j.ok):
        errors[failed.error] = errors.get(failed.error, 0) + 1
    print(f"machine: {hardware()}")
    print(
        f"setup: {'PostgreSQL' if args.database_url else 'SQLite'} + "
        f"{'Redis' if args.redis_url else 'in-memory layer'}, "
        f"{args.viewers} viewers over {args.spread:.0f} s, "
        f"{CAPTIONS_IN_SNAPSHOT} captions in each snapshot"
    )
    print(f"admitted {len(admitted)} / {len(joins)}, failed {len(joins) - len(admitted)} {errors}")
    if admitted:
        print(
            f"admission p50 {statistics.median(admitted):.2f} s, "
            f"p95 {percentile(admitted, 0.95):.2f} s, max {max(admitted):.2f} s; "
            f"all done {wall:.1f} s after the first join"
        )


if __name__ == "__main__":
    main()
