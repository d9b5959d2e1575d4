"""The bench's websocket clients: viewers that log every caption, broadcasters that stream."""

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.caption_latency.fixtures import LecturePlan
from bench.caption_latency.lecture import FRAME_BYTES, FRAME_S
from ml.asr import SAMPLE_RATE


def start_message(language: str) -> dict[str, Any]:
    return {
        "type": "start",
        "sample_rate": SAMPLE_RATE,
        "format": "pcm_s16le",
        "language": language,
    }


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
    pending_display: float | None = None  # first non-empty partial since the last final
    delay_notices: list[int] = field(default_factory=list)  # "captions delayed by N s"; 0 clears

    @property
    def max_seq(self) -> int:
        seqs = [receipt.seq for receipt in self.receipts] + self.snapshot_seqs
        return max(seqs, default=0)

    def record(self, message: dict[str, Any], now: float) -> None:
        """One message from the server, arrived at `now` (time.monotonic())."""
        kind = message.get("type")
        if kind == "final":
            first = self.pending_display if self.pending_display is not None else now
            self.receipts.append(
                Receipt(message["seq"], message["start_ms"], message["end_ms"], now, first)
            )
            self.pending_display = None
        elif kind == "partial":
            self.partials += 1
            if message.get("text"):
                if self.pending_display is None:
                    self.pending_display = now
                if self.first_partial is None:
                    self.first_partial = now
        elif kind == "delay":
            self.delay_notices.append(int(message["seconds"]))
        elif kind == "snapshot":
            self.snapshot_seqs += [item["seq"] for item in message["finals"]]


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
    try:
        async for raw in ws:
            now = time.monotonic()
            log.record(json.loads(raw), now)
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
        await self.ws.send(json.dumps(start_message(self.plan.audio.language)))
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
