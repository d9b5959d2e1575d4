"""A broadcaster that behaves like the broadcast page (static/js/broadcast.js), over a real
websocket to a real server: for fault tests and benchmarks.

It plays a PCM16 buffer as a microphone would (100 ms frames at real time, or at `pace` times
real time), keeps every frame after the last `ack`, and on any disconnect (a close other than
the final ones, a reset, a refused connection while the server is down) reconnects with the
page's backoff and sends `start` with `position_ms` = the lecture position of the oldest frame
it kept, then those frames (joined into messages of at most 0.5 s), then the live microphone.
A connection silent for BROADCASTER_SILENCE_LIMIT_S while audio is sent is dropped as dead and
replaced, as the page does (a network can drop a connection without telling). When the buffer
is played out it sends `stop` (again after a reconnect, if need be) and ends at `stopped`.
docs/protocol.md, "Nothing lost, nothing heard twice".

`run()` blocks; `start()` runs it on a thread so that the caller can break things meanwhile.
"""

import contextlib
import json
import socket as tcp
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from captions.protocol import BROADCASTER_SILENCE_LIMIT_S, MAX_FRAME_BYTES

SAMPLE_RATE = 16_000
SAMPLES_PER_MS = SAMPLE_RATE // 1000
RESEND_FRAME_SAMPLES = MAX_FRAME_BYTES // 2
# Closes after which the page gives up rather than reconnect (broadcast.js FINAL_CLOSES).
FINAL_CLOSES = {4000, 4001, 4003, 4004, 4009, 4010}


class BroadcastRefused(Exception):
    """The server closed with a code after which the page stops (lecture ended, replaced...)."""


@dataclass
class Kept:
    position: int  # samples on the lecture's time line (provisional until the first `started`)
    pcm: bytes


@dataclass
class Event:
    at: float  # seconds since the broadcast began
    kind: str  # connected, refused, started, ack, closed, final, stopped
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class BroadcastLog:
    events: list[Event] = field(default_factory=list)
    # Where the buffer's first sample lies on the lecture's time line (the first `started`).
    first_offset_ms: int | None = None
    finals: list[dict[str, Any]] = field(default_factory=list)
    resent_ms: int = 0  # audio sent more than once (resends after reconnects)

    def of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]

    def disconnects(self) -> int:
        return len(self.of("closed"))


class Broadcaster:
    def __init__(
        self,
        base_url: str,
        lecture_id: int,
        cookie: str,
        pcm: bytes,
        *,
        language: str = "en",
        pace: float = 1.0,
        frame_ms: int = 100,
        max_backoff_s: float = 5.0,
        silence_limit_s: float = BROADCASTER_SILENCE_LIMIT_S,
        stopped_timeout_s: float = 300.0,
    ) -> None:
        self.url = base_url.replace("http", "ws", 1) + f"/ws/lectures/{lecture_id}/broadcast/"
        self.origin = Origin(base_url)
        self.cookie = cookie
        self.pcm = pcm[: len(pcm) - len(pcm) % 2]
        self.language = language
        self.pace = pace
        self.frame_bytes = frame_ms * SAMPLES_PER_MS * 2
        self.max_backoff_s = max_backoff_s
        self.silence_limit_s = silence_limit_s
        self._last_heard = 0.0
        self.stopped_timeout_s = stopped_timeout_s
        self.log = BroadcastLog()
        self._kept: deque[Kept] = deque()
        self._next_position = 0
        self._placed = False
        self._socket: ClientConnection | None = None
        self._streaming = False
        self._retries = 0
        self._reconnect_at = 0.0
        self._stopping = False  # the buffer is played out: `stop` is owed
        self._stopped = False
        self._sent_until = 0  # the furthest sample (time line) ever sent
        self._t0 = 0.0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> "Broadcaster":
        self._thread = threading.Thread(target=self._run_catching, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> BroadcastLog:
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the broadcast did not end in time")
        if self._error is not None:
            raise self._error
        return self.log

    def elapsed(self) -> float:
        """Seconds since the broadcast began."""
        return time.monotonic() - self._t0

    def audio_position_s(self) -> float:
        """How far into the buffer the microphone is now."""
        return min(self.elapsed() * self.pace, len(self.pcm) / 2 / SAMPLE_RATE)

    def _run_catching(self) -> None:
        try:
            self.run()
        except BaseException as error:  # handed to join()
            self._error = error

    def run(self) -> BroadcastLog:
        self._t0 = time.monotonic()
        frame_s = self.frame_bytes / 2 / SAMPLE_RATE / self.pace
        frames = [
            self.pcm[offset : offset + self.frame_bytes]
            for offset in range(0, len(self.pcm), self.frame_bytes)
        ]
        produced = 0
        ends_by: float | None = None
        while not self._stopped:
            now = time.monotonic()
            while produced < len(frames) and self._t0 + produced * frame_s <= now:
                self._microphone(frames[produced])
                produced += 1
            if produced == len(frames) and not self._stopping:
                self._stopping = True
                ends_by = now + self.stopped_timeout_s
                if self._streaming:
                    self._send_stop()
            if ends_by is not None and now > ends_by:
                raise TimeoutError("no `stopped` from the server")
            if (
                self._streaming
                and not self._stopping
                and now - self._last_heard > self.silence_limit_s
            ):
                self._record("silent", seconds=round(now - self._last_heard, 1))
                if self._socket is not None:  # abandon it at once, as the page does
                    with contextlib.suppress(OSError):
                        self._socket.socket.shutdown(tcp.SHUT_RDWR)
                self._disconnected()
            if self._socket is None:
                if now >= self._reconnect_at:
                    self._connect()
                else:
                    time.sleep(min(0.05, self._reconnect_at - now))
                continue
            next_frame = self._t0 + produced * frame_s if produced < len(frames) else now + 0.1
            self._receive(max(0.0, next_frame - time.monotonic()))
        self._close_quietly()
        return self.log

    # -- the page's behaviour --------------------------------------------------------------------

    def _record(self, kind: str, **detail: Any) -> None:
        self.log.events.append(Event(self.elapsed(), kind, detail))

    def _microphone(self, pcm: bytes) -> None:
        self._kept.append(Kept(self._next_position, pcm))
        self._next_position += len(pcm) // 2
        if self._streaming:
            self._send_audio(pcm, self._next_position)

    def _forget_until(self, sample: int) -> None:
        while self._kept and self._kept[0].position + len(self._kept[0].pcm) // 2 <= sample:
            self._kept.popleft()

    def _place(self, offset_ms: int) -> None:
        first = self._kept[0].position if self._kept else self._next_position
        shift = offset_ms * SAMPLES_PER_MS - first
        for frame in self._kept:
            frame.position += shift
        self._next_position += shift
        if not self._placed:  # nothing was sent before the first `started`
            self._sent_until = offset_ms * SAMPLES_PER_MS
        self._placed = True

    def _start_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "start",
            "sample_rate": SAMPLE_RATE,
            "format": "pcm_s16le",
            "language": self.language,
        }
        if self._placed:
            first = self._kept[0].position if self._kept else self._next_position
            message["position_ms"] = first // SAMPLES_PER_MS
        return message

    def _resend_kept(self) -> None:
        parts: list[bytes] = []
        samples = 0
        end = 0
        for frame in list(self._kept):
            frame_samples = len(frame.pcm) // 2
            if parts and samples + frame_samples > RESEND_FRAME_SAMPLES:
                self._send_audio(b"".join(parts), end)
                parts, samples = [], 0
            parts.append(frame.pcm)
            samples += frame_samples
            end = frame.position + frame_samples
        if parts:
            self._send_audio(b"".join(parts), end)

    def _connect(self) -> None:
        self._record("connecting", retries=self._retries)
        try:
            self._socket = connect(
                self.url,
                origin=self.origin,
                additional_headers={"Cookie": self.cookie},
                open_timeout=10,
                close_timeout=2,
                legacy=True,  # a plain connection object, closed here
            )
        except (OSError, InvalidHandshake, TimeoutError) as error:
            if isinstance(error, InvalidStatus) and error.response.status_code in (401, 403):
                raise BroadcastRefused(f"handshake refused: {error}") from error
            self._record("refused", error=type(error).__name__)
            self._disconnected()
            return
        self._record("connected")

    def _disconnected(self, code: int | None = None) -> None:
        """The socket is gone (or never came): reconnect later, as the page does."""
        self._close_quietly()
        self._streaming = False
        if code in FINAL_CLOSES:
            raise BroadcastRefused(f"closed with {code}")
        self._retries += 1
        backoff = min(self.max_backoff_s, 0.5 * 2 ** min(self._retries, 4))
        self._reconnect_at = time.monotonic() + backoff

    def _close_quietly(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to tell the server
                socket.close()

    def _receive(self, timeout: float) -> None:
        """Handle what the server sends within `timeout` seconds."""
        socket = self._socket
        assert socket is not None
        deadline = time.monotonic() + timeout
        while self._socket is not None and not self._stopped:
            try:
                raw = socket.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else None
                self._record("closed", code=code)
                self._disconnected(code)
                return
            self._last_heard = time.monotonic()
            if isinstance(raw, str):
                self._handle(json.loads(raw))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ready":
            self._send_text(self._start_message())
        elif kind == "started":
            self._record("started", offset_ms=message["offset_ms"], kept=len(self._kept))
            if self.log.first_offset_ms is None:
                first = self._kept[0].position if self._kept else self._next_position
                self.log.first_offset_ms = message["offset_ms"] - first // SAMPLES_PER_MS
            self._place(message["offset_ms"])
            self._streaming = True
            self._retries = 0
            self._resend_kept()
            if self._stopping:
                self._send_stop()
        elif kind == "ack":
            self._record("ack", stored_until_ms=message["stored_until_ms"])
            self._forget_until(message["stored_until_ms"] * SAMPLES_PER_MS)
        elif kind == "final":
            self.log.finals.append(message)
        elif kind == "stopped":
            self._record("stopped", real_time_factor=message.get("real_time_factor"))
            self._kept.clear()
            self._stopped = True
        elif kind == "error":
            self._record("error", code=message.get("code"), reason=message.get("reason"))

    def _send_stop(self) -> None:
        self._record("stop")
        self._send_text({"type": "stop"})

    def _send_text(self, message: dict[str, Any]) -> None:
        self._send(json.dumps(message))

    def _send_audio(self, pcm: bytes, end_sample: int) -> None:
        start_sample = end_sample - len(pcm) // 2
        if self._placed and start_sample < self._sent_until:
            resent = min(end_sample, self._sent_until) - start_sample
            self.log.resent_ms += resent // SAMPLES_PER_MS
        self._send(pcm)
        self._sent_until = max(self._sent_until, end_sample)

    def _send(self, data: str | bytes) -> None:
        socket = self._socket
        if socket is None:
            return
        try:
            socket.send(data)
        except (ConnectionClosed, OSError) as error:
            code = None
            if isinstance(error, ConnectionClosed) and error.rcvd is not None:
                code = error.rcvd.code
            self._record("closed", code=code, on="send")
            self._disconnected(code)
