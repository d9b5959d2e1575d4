"""The live caption websocket protocol, version 1: messages, limits and close codes.

Plain functions and data, no sockets: the consumers call these, the tests call them directly.
`docs/protocol.md` is the description for client authors; keep the two in step.
"""

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

PROTOCOL_VERSION = 1
SAMPLE_RATE = 16_000
SAMPLE_FORMAT = "pcm_s16le"
BYTES_PER_SECOND = SAMPLE_RATE * 2
SUPPORTED_LANGUAGES = ("ko", "en")

MAX_TEXT_MESSAGE_BYTES = 4_096
# Protocol messages are flat objects (`start` is one level deep); 8 levels leave room for
# optional fields. Deeper JSON is refused before it is parsed: Python's parser recurses once
# per level and raises RecursionError on '[' * 2000 (under 4 KB).
MAX_JSON_DEPTH = 8
# 0.5 s of audio a frame: browsers send 20-100 ms, so this leaves room without letting one frame
# hold the ASR thread hostage.
MAX_FRAME_BYTES = BYTES_PER_SECOND // 2
# Audio may arrive faster than real time only briefly: a reconnecting client resends what was
# not acknowledged (the page keeps up to BROADCASTER_KEEPS_S of it). The limits are checked when
# a message is handled, not when it arrived, so they also leave room for the server itself
# falling behind under load: a real-time microphone must never be hung up on because the
# server was slow.
AUDIO_BURST_S = 630.0
# The broadcast page keeps every frame the server has not acknowledged, up to this much audio, and
# resends it after a reconnect (static/js/broadcast.js: KEEP_AUDIO_S).
BROADCASTER_KEEPS_S = 600
# The server acknowledges the audio it has made durable (`ack`) at least this often.
ACK_EVERY_S = 1.0
# A broadcast page that has heard nothing from the server (no `ack`) for this long while its
# microphone runs takes the connection for dead and reconnects (static/js/broadcast.js:
# SILENCE_LIMIT_MS): a network that drops a connection without a reset leaves the socket open
# for minutes, with captions stopped meanwhile. Ten acknowledgements missed, so that a busy
# server is not abandoned.
BROADCASTER_SILENCE_LIMIT_S = 10
# A resuming broadcaster's `position_ms` may lie at most this far beyond the lecture's wall
# clock (a sound card's clock drifts from the server's).
MAX_POSITION_AHEAD_S = 60
AUDIO_RATE_FACTOR = 1.25
MAX_MESSAGES_PER_SECOND = 100
MESSAGE_BURST = 1_000
# A viewer sends nothing but pings.
VIEWER_MESSAGES_PER_SECOND = 5
VIEWER_MESSAGE_BURST = 20


class CloseCode(IntEnum):
    """Every refusal closes the socket with one of these (4000-4999 is for applications)."""

    LECTURE_ENDED = 4000  # normal end: the instructor ended the lecture
    UNAUTHENTICATED = 4001  # not logged in
    FORBIDDEN = 4003  # logged in, may see the lecture, may not do this (a student broadcasting)
    NOT_FOUND = 4004  # no such lecture, or not one of yours
    NOT_LIVE = 4009  # broadcasting to a lecture that is not live
    REPLACED = 4010  # another connection of the instructor took over the broadcast
    BAD_MESSAGE = 4400  # malformed JSON, unknown type, binary before `start`, bad parameters
    FRAME_TOO_LARGE = 4413  # a message over the size limits
    TOO_FAST = 4429  # audio faster than real time beyond the burst, or a message flood
    SERVER_ERROR = 4500  # the server failed; captions committed so far are kept
    AT_CAPACITY = 4503  # this server carries all the lectures it can: reconnect (another may)


class ProtocolError(Exception):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class StartMessage:
    sample_rate: int
    format: str
    language: str
    # Where the first frame that follows lies on the lecture's time line (a resume), or None.
    position_ms: int | None = None


@dataclass(frozen=True)
class StopMessage:
    pass


BroadcasterMessage = StartMessage | StopMessage


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit` (brackets inside strings
    do not count). A linear scan that never recurses, whatever the input."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def load_json(text: str) -> dict[str, Any]:
    """A client's text message as a JSON object with a `type`: its size is checked first, then
    its nesting, and only then is it parsed."""
    if len(text) > MAX_TEXT_MESSAGE_BYTES or len(text.encode()) > MAX_TEXT_MESSAGE_BYTES:
        raise ProtocolError(
            CloseCode.FRAME_TOO_LARGE, f"text message over {MAX_TEXT_MESSAGE_BYTES} bytes"
        )
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise ProtocolError(
            CloseCode.BAD_MESSAGE, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProtocolError(CloseCode.BAD_MESSAGE, f"malformed JSON: {error.msg}") from error
    except (ValueError, RecursionError) as error:  # e.g. a number too long to convert
        raise ProtocolError(CloseCode.BAD_MESSAGE, "malformed JSON") from error
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(CloseCode.BAD_MESSAGE, "a message is a JSON object with a 'type'")
    return message


def parse_broadcaster_text(text: str, *, course_language: str) -> BroadcasterMessage:
    """A broadcaster's text message: `start` (once, before any audio) or `stop`."""
    message = load_json(text)
    kind = message["type"]
    if kind == "stop":
        return StopMessage()
    if kind != "start":
        raise ProtocolError(CloseCode.BAD_MESSAGE, f"unknown message type {kind!r}")
    sample_rate = message.get("sample_rate")
    if sample_rate != SAMPLE_RATE:
        raise ProtocolError(
            CloseCode.BAD_MESSAGE, f"sample_rate must be {SAMPLE_RATE}, got {sample_rate!r}"
        )
    sample_format = message.get("format", SAMPLE_FORMAT)
    if sample_format != SAMPLE_FORMAT:
        raise ProtocolError(
            CloseCode.BAD_MESSAGE, f"format must be {SAMPLE_FORMAT!r}, got {sample_format!r}"
        )
    language = message.get("language", course_language)
    if language not in SUPPORTED_LANGUAGES:
        raise ProtocolError(
            CloseCode.BAD_MESSAGE,
            f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}, got {language!r}",
        )
    position_ms = message.get("position_ms")
    if position_ms is not None and (
        not isinstance(position_ms, int) or isinstance(position_ms, bool) or position_ms < 0
    ):
        raise ProtocolError(
            CloseCode.BAD_MESSAGE,
            f"position_ms must be a non-negative integer, got {position_ms!r}",
        )
    return StartMessage(
        sample_rate=SAMPLE_RATE, format=SAMPLE_FORMAT, language=language, position_ms=position_ms
    )


def parse_viewer_message(text: str | None) -> None:
    """A viewer's message: only `{"type": "ping"}` (answered with `pong`) is allowed."""
    if text is None:
        raise ProtocolError(CloseCode.BAD_MESSAGE, "viewers may only send {'type': 'ping'}")
    if load_json(text)["type"] != "ping":
        raise ProtocolError(CloseCode.BAD_MESSAGE, "viewers may only send {'type': 'ping'}")


def check_audio_frame(frame: bytes) -> None:
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError(
            CloseCode.FRAME_TOO_LARGE,
            f"audio frame of {len(frame)} bytes; at most {MAX_FRAME_BYTES}",
        )
    if len(frame) % 2:
        raise ProtocolError(CloseCode.BAD_MESSAGE, "PCM16 frames hold whole 2-byte samples")


def parse_after(raw: str | None) -> int:
    """The viewer's `?after=<seq>`: captions after this seq are sent; absent means all."""
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 9:
        raise ProtocolError(CloseCode.BAD_MESSAGE, "after must be a non-negative integer")
    return int(raw)


class TokenBucket:
    """Allows `rate` units a second on average and `burst` at once; time comes from the caller."""

    def __init__(self, *, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now

    def take(self, amount: float, *, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


class BroadcastLimits:
    """Audio no faster than AUDIO_RATE_FACTOR x real time beyond a burst, and no message flood."""

    def __init__(self, *, now: float) -> None:
        self.audio = TokenBucket(rate=AUDIO_RATE_FACTOR, burst=AUDIO_BURST_S, now=now)
        self.messages = TokenBucket(rate=MAX_MESSAGES_PER_SECOND, burst=MESSAGE_BURST, now=now)

    def check_message(self, *, now: float) -> None:
        if not self.messages.take(1, now=now):
            raise ProtocolError(
                CloseCode.TOO_FAST, f"more than {MAX_MESSAGES_PER_SECOND} messages a second"
            )

    def check_audio(self, frame_bytes: int, *, now: float) -> None:
        if not self.audio.take(frame_bytes / BYTES_PER_SECOND, now=now):
            raise ProtocolError(
                CloseCode.TOO_FAST, f"audio faster than {AUDIO_RATE_FACTOR} x real time"
            )


def viewer_message(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)
