"""One measured run against a started server: viewers connect, broadcasters stream in step,
the bench waits until every viewer has the last final, then reads what the server stored."""

import asyncio
import contextlib
import os
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection

from bench.caption_latency.clients import (
    Broadcaster,
    BroadcastLog,
    ViewerLog,
    connect_viewer,
    read_viewer,
)
from bench.caption_latency.fixtures import LecturePlan, StoredSegment, stored_segments_in_thread
from bench.caption_latency.machine import process_cpu_s, system_busy_s
from bench.caption_latency.server import Server
from ml.asr import SAMPLE_RATE

CONNECT_CONCURRENCY = 32


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
    hog_cpu_s: float  # the `--cpu-hog` processes
    # Words the server's filters kept off the screen during the run, by reason (its own metric)
    dropped_words: dict[str, int] | None
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


@dataclass
class _Viewers:
    logs: list[ViewerLog]
    sockets: list[ClientConnection]
    readers: list[asyncio.Task[None]]
    connect_s: float


async def _connect_viewers(
    base_url: str, plans: Sequence[LecturePlan], limit: asyncio.Semaphore
) -> _Viewers:
    """Every viewer socket open (its snapshot read) and a reader task on each."""
    logs: list[ViewerLog] = []
    connecting = []
    for index, plan in enumerate(plans):
        for cookie in plan.viewer_cookies:
            log = ViewerLog(lecture_index=index)
            logs.append(log)
            connecting.append(connect_viewer(base_url, plan.lecture_id, cookie, log, limit))
    started = time.monotonic()
    sockets = list(await asyncio.gather(*connecting))
    connect_s = time.monotonic() - started
    readers = [
        asyncio.create_task(read_viewer(ws, log)) for ws, log in zip(sockets, logs, strict=True)
    ]
    return _Viewers(logs, sockets, readers, connect_s)


@dataclass(frozen=True)
class _CpuClock:
    """CPU counters at the start of the streaming window."""

    server_pid: int | None
    server: float | None
    client: float
    system: float
    hog_pids: tuple[int, ...]
    hogs: float
    started: float

    @classmethod
    def start(cls, server_pid: int | None, hog_pids: Sequence[int]) -> "_CpuClock":
        return cls(
            server_pid=server_pid,
            server=process_cpu_s(server_pid) if server_pid else None,
            client=process_cpu_s(os.getpid()),
            system=system_busy_s(),
            hog_pids=tuple(hog_pids),
            hogs=sum(process_cpu_s(pid) for pid in hog_pids),
            started=time.monotonic(),
        )

    def hogs_s(self) -> float:
        return sum(process_cpu_s(pid) for pid in self.hog_pids) - self.hogs

    def server_s(self) -> float | None:
        if self.server_pid and self.server is not None:
            return process_cpu_s(self.server_pid) - self.server
        return None


async def _stream_all(
    broadcasters: Sequence[Broadcaster], logs: Sequence[BroadcastLog], t0: float
) -> None:
    """Every broadcaster streams from the same t0; a failure is kept in its log."""
    results = await asyncio.gather(
        *(broadcaster.stream(t0) for broadcaster in broadcasters), return_exceptions=True
    )
    for log, result in zip(logs, results, strict=True):
        if isinstance(result, BaseException):
            log.error = log.error or f"{type(result).__name__}: {result}"


async def _settle(
    viewer_logs: Sequence[ViewerLog], last_seq: dict[int, int], timeout_s: float
) -> tuple[bool, float]:
    """Wait until every viewer has its lecture's last final (or was closed): (settled, s)."""
    started = time.monotonic()
    settled = False
    while time.monotonic() - started < timeout_s:
        if all(log.max_seq >= last_seq[log.lecture_index] or log.closed for log in viewer_logs):
            settled = True
            break
        await asyncio.sleep(0.05)
    return settled, time.monotonic() - started


async def _close(
    broadcasters: Sequence[Broadcaster], viewers: _Viewers, limit: asyncio.Semaphore
) -> None:
    for log in viewers.logs:
        log.closing = True
    await asyncio.gather(*(broadcaster.close() for broadcaster in broadcasters))

    async def close_viewer(ws: ClientConnection) -> None:
        async with limit:
            with contextlib.suppress(Exception):
                await ws.close()

    await asyncio.gather(*(close_viewer(ws) for ws in viewers.sockets))
    await asyncio.gather(*viewers.readers, return_exceptions=True)
    await asyncio.sleep(1.0)  # let the server run its disconnect handlers before it is stopped


def _dropped_words(base_url: str) -> dict[str, int] | None:
    """The server's `hearus_caption_dropped_words` counter by reason (None if /metrics fails)."""
    try:
        with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "hearus_caption_dropped_words":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["reason"]] = int(sample.value)
    return counts


def _difference(
    after: dict[str, int] | None, before: dict[str, int] | None
) -> dict[str, int] | None:
    if after is None or before is None:
        return None
    return {reason: after[reason] - before.get(reason, 0) for reason in after}


async def measure(
    server: Server,
    plans: Sequence[LecturePlan],
    warm_plan: LecturePlan | None,
    settle_timeout_s: float,
    hog_pids: Sequence[int] = (),
) -> Measurement:
    if warm_plan is not None:
        await warm_up(server.url, warm_plan)
    dropped_before = await asyncio.to_thread(_dropped_words, server.url)

    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    viewers = await _connect_viewers(server.url, plans, limit)
    broadcast_logs = [BroadcastLog(lecture_index=index) for index in range(len(plans))]
    broadcasters = [
        Broadcaster(server.url, plan, log) for plan, log in zip(plans, broadcast_logs, strict=True)
    ]
    await asyncio.gather(*(broadcaster.prepare() for broadcaster in broadcasters))

    t0 = time.monotonic() + 1.0
    await asyncio.sleep(t0 - time.monotonic() - 0.05)
    cpu = _CpuClock.start(server.pid, hog_pids)
    await _stream_all(broadcasters, broadcast_logs, t0)

    # Every final is stored and published before `stopped`; wait until each viewer has the last.
    lecture_ids = [plan.lecture_id for plan in plans]
    stored = await asyncio.to_thread(stored_segments_in_thread, lecture_ids)
    last_seq = {
        index: (stored[plan.lecture_id][-1].seq if stored[plan.lecture_id] else 0)
        for index, plan in enumerate(plans)
    }
    settled, settle_s = await _settle(viewers.logs, last_seq, settle_timeout_s)
    window_s = time.monotonic() - cpu.started
    server_cpu_s = cpu.server_s()
    client_cpu_s = process_cpu_s(os.getpid()) - cpu.client
    system_cpu_s = system_busy_s() - cpu.system
    hog_cpu_s = cpu.hogs_s()
    dropped = _difference(await asyncio.to_thread(_dropped_words, server.url), dropped_before)
    # Re-read: a final stored after the first read (none expected) must count as lost, not vanish.
    stored = await asyncio.to_thread(stored_segments_in_thread, lecture_ids)

    await _close(broadcasters, viewers, limit)
    return Measurement(
        viewers=viewers.logs,
        broadcasts=broadcast_logs,
        stored=stored,
        connect_s=viewers.connect_s,
        window_s=window_s,
        server_cpu_s=server_cpu_s,
        client_cpu_s=client_cpu_s,
        system_cpu_s=system_cpu_s,
        hog_cpu_s=hog_cpu_s,
        dropped_words=dropped,
        settled=settled,
        settle_s=settle_s,
    )
