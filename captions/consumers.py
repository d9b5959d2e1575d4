"""Websocket consumers: thin. They admit or refuse, parse with `protocol`, and hand the work to
`services` (storage, publishing) and `live.LiveSession` (transcription)."""

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils import timezone

from captions import capacity, drain, journal, metrics, services, unheard
from captions.engine import get_engine
from captions.live import LiveSession
from captions.protocol import (
    ACK_EVERY_S,
    MAX_POSITION_AHEAD_S,
    PROTOCOL_VERSION,
    VIEWER_MESSAGE_BURST,
    VIEWER_MESSAGES_PER_SECOND,
    BroadcastLimits,
    CloseCode,
    ProtocolError,
    StartMessage,
    TokenBucket,
    check_audio_frame,
    parse_after,
    parse_broadcaster_text,
    parse_viewer_message,
    viewer_message,
)
from captions.sockets import LectureSocket, concurrent_read
from lectures.models import Lecture
from ml.asr import run_in_asr_thread

logger = logging.getLogger(__name__)


class CaptionConsumer(LectureSocket):
    """A viewer: a snapshot first, then every partial, final and status of the lecture."""

    async def connect(self) -> None:
        self.lecture_id = int(self.scope["url_route"]["kwargs"]["lecture_id"])
        self.last_seq = 0
        self.flood = TokenBucket(
            rate=VIEWER_MESSAGES_PER_SECOND, burst=VIEWER_MESSAGE_BURST, now=time.monotonic()
        )
        admission = await concurrent_read(services.admit_viewer)(
            self.scope["user"], self.lecture_id
        )
        if admission.lecture is None:
            assert admission.refusal is not None
            await self.refuse(admission.refusal, "you may not watch this lecture")
            return
        try:
            after = parse_after(_query_param(self.scope, "after"))
        except ProtocolError as error:
            await self.refuse(error.code, error.reason)
            return
        # Join before reading: a final committed in between arrives twice and is dropped by seq
        # below, rather than falling into the gap between snapshot and subscription.
        await self.join_lecture_group()
        await self.accept()
        self.counted_viewer = True
        metrics.CONNECTED_VIEWERS.inc()
        self.counted_in_lecture = await concurrent_read(services.viewer_joined)(
            lecture=admission.lecture, user=self.scope["user"]
        )
        snapshot = await concurrent_read(services.snapshot)(
            lecture=admission.lecture, after_seq=after
        )
        snapshot["protocol"] = PROTOCOL_VERSION
        if snapshot["finals"]:
            self.last_seq = snapshot["finals"][-1]["seq"]
        else:
            self.last_seq = after
        await self.send_message(snapshot)

    async def release(self) -> None:
        if getattr(self, "counted_viewer", False):
            self.counted_viewer = False
            metrics.CONNECTED_VIEWERS.dec()
        if getattr(self, "counted_in_lecture", False):
            self.counted_in_lecture = False
            with contextlib.suppress(Exception):  # the count fades by itself (VIEWERS_TTL_S)
                await concurrent_read(services.viewer_left)(self.lecture_id)
        await super().release()

    async def caption_final(self, event: dict[str, Any]) -> None:
        seq = event["message"]["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            # The channel layer lost a message (Redis pub/sub is at-most-once): the captions in
            # between are stored, so read them rather than leave a hole in the viewer's text.
            missing = await database_sync_to_async(services.finals_after)(
                lecture_id=self.lecture_id, after_seq=self.last_seq, before_seq=seq
            )
            for message in missing:
                await self.send_message(message)
        self.last_seq = seq
        await self.send_message(event["message"])

    async def layer_unavailable(self) -> None:
        await self._refill()

    async def layer_back(self) -> None:
        await self._refill()  # what was published while the layer was down never came

    async def _refill(self) -> None:
        """The stored captions this viewer has not had yet, read from the database."""
        if self.closing:
            return
        with contextlib.suppress(Exception):
            missing = await concurrent_read(services.finals_after)(
                lecture_id=self.lecture_id, after_seq=self.last_seq
            )
            for message in missing:
                await self.send_message(message)
                self.last_seq = message["seq"]

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Viewers only listen; a `ping` is answered, anything else is a protocol error."""
        if not self.flood.take(1, now=time.monotonic()):
            await self.refuse(
                CloseCode.TOO_FAST,
                f"viewers send at most {VIEWER_MESSAGES_PER_SECOND} messages a second",
            )
            return
        try:
            parse_viewer_message(text_data)
        except ProtocolError as error:
            await self.refuse(error.code, error.reason)
            return
        await self.send(text_data=viewer_message("pong"))


class BroadcastConsumer(LectureSocket):
    """The instructor's microphone: `start`, binary PCM16 frames, `stop`."""

    session: LiveSession | None = None
    # Audio of this connection already in the journal (a resend after a reconnect): skipped.
    skip_bytes = 0
    _ack_task: "asyncio.Task[None] | None" = None
    _last_ack = 0.0

    async def connect(self) -> None:
        self.lecture_id = int(self.scope["url_route"]["kwargs"]["lecture_id"])
        self.limits = BroadcastLimits(now=time.monotonic())
        admission = await database_sync_to_async(services.admit_broadcaster)(
            self.scope["user"], self.lecture_id
        )
        if admission.lecture is None:
            assert admission.refusal is not None
            reasons = {
                CloseCode.UNAUTHENTICATED: "log in to broadcast",
                CloseCode.FORBIDDEN: "only the course's instructors broadcast",
                CloseCode.NOT_FOUND: "no such lecture",
                CloseCode.NOT_LIVE: "start the lecture before broadcasting",
            }
            await self.refuse(admission.refusal, reasons.get(admission.refusal, "refused"))
            return
        self.lecture: Lecture = admission.lecture
        await self.join_lecture_group()
        await self.accept()
        replaced = await database_sync_to_async(services.broadcaster_claim)(
            lecture_id=self.lecture_id, channel_name=self.channel_name
        )
        if replaced:
            try:
                await self.channel_layer.send(replaced, {"type": "broadcast.replaced"})
            except Exception:  # the old socket's own consumer is gone with it, or will be told
                logger.warning("could not tell the replaced broadcaster", exc_info=True)
        await self.send(text_data=viewer_message("ready", protocol=PROTOCOL_VERSION))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            self.limits.check_message(now=time.monotonic())
            if bytes_data is not None:
                await self._receive_audio(bytes_data)
            elif text_data is not None:
                await self._receive_text(text_data)
        except ProtocolError as error:
            logger.info(
                "broadcaster refused",
                extra={"lecture_id": self.lecture_id, "code": int(error.code)},
            )
            await self._end_session()
            await self.refuse(error.code, error.reason)
        except Exception:
            # A bug must not lose the lecture: store what was heard, then say so (4500).
            logger.exception("broadcaster message failed", extra={"lecture_id": self.lecture_id})
            await self._end_session()
            await self.refuse(CloseCode.SERVER_ERROR, "the server failed on this message")

    async def _receive_audio(self, frame: bytes) -> None:
        if self.session is None:
            raise ProtocolError(CloseCode.BAD_MESSAGE, "send 'start' before any audio")
        check_audio_frame(frame)
        self.limits.check_audio(len(frame), now=time.monotonic())
        if self.skip_bytes:
            skipped = min(self.skip_bytes, len(frame))
            self.skip_bytes -= skipped
            frame = frame[skipped:]
            if not frame:
                return
        self.session.feed(frame)
        self._acknowledge_soon()

    def _acknowledge_soon(self) -> None:
        """Tell the page how far its audio is safe, at most every ACK_EVERY_S (an fsync off the
        event loop), so that it can forget what it kept to resend. Without a journal the ack
        still comes (the page takes a silent server for a dead connection) but never advances."""
        now = time.monotonic()
        if now - self._last_ack < ACK_EVERY_S or (self._ack_task and not self._ack_task.done()):
            return
        if self.session is None:
            return
        self._last_ack = now
        self._ack_task = asyncio.ensure_future(self._acknowledge(self.session))

    async def _acknowledge(self, session: LiveSession) -> None:
        writer = session.journal
        safe_ms = session.offset_ms  # what came before this connection is not its to promise
        if writer is not None:
            try:
                safe_ms = journal.sample_to_ms(await asyncio.to_thread(writer.sync))
            except OSError:  # the volume failed: what was synced before still stands
                safe_ms = writer.synced_until_ms
        try:
            await self.send(text_data=viewer_message("ack", stored_until_ms=safe_ms))
        except Exception:  # closed meanwhile; the next ack (or the captions) will say it
            logger.debug("ack not sent", exc_info=True)

    async def _receive_text(self, text: str) -> None:
        message = parse_broadcaster_text(text, course_language=self.lecture.course.language)
        if isinstance(message, StartMessage):
            if self.session is not None:
                raise ProtocolError(CloseCode.BAD_MESSAGE, "'start' was already sent")
            await self._start_session(message)
        else:
            session = self.session
            await self._end_session()
            rtf = round(session.real_time_factor, 3) if session is not None else None
            await self.send(text_data=viewer_message("stopped", real_time_factor=rtf))
            await self.close(code=1000)

    async def _start_session(self, message: StartMessage) -> None:
        engine = await run_in_asr_thread(get_engine)
        if await run_in_asr_thread(capacity.refuses, self.lecture_id, engine):
            raise ProtocolError(
                CloseCode.AT_CAPACITY, "this server is at capacity: reconnect in a moment"
            )
        started_at = self.lecture.started_at or timezone.now()
        elapsed_ms = max(0, int((timezone.now() - started_at).total_seconds() * 1000))
        if (
            message.position_ms is not None
            and message.position_ms > elapsed_ms + MAX_POSITION_AHEAD_S * 1000
        ):
            raise ProtocolError(
                CloseCode.BAD_MESSAGE,
                f"position_ms {message.position_ms} lies after the lecture's present",
            )
        placement = journal.place(
            position_ms=message.position_ms,
            elapsed_ms=elapsed_ms,
            journal_end=await asyncio.to_thread(journal.end_sample, self.lecture_id),
        )
        self.skip_bytes = placement.skip_bytes
        # Audio a dead session left uncaptioned comes first, so captions stay in time order;
        # the page keeps its audio until `started`.
        try:
            await unheard.caption_unheard_async(self.lecture_id, engine)
        except Exception:  # never keeps the instructor off the air: the lecture's end retries
            logger.exception("unheard audio not captioned", extra={"lecture_id": self.lecture_id})
        try:
            writer: journal.JournalWriter | None = await asyncio.to_thread(
                journal.JournalWriter,
                self.lecture_id,
                start_sample=placement.session_start,
                language=message.language,
            )
        except OSError:  # the media volume is gone: captions go on, unacknowledged
            logger.exception("audio journal unavailable", extra={"lecture_id": self.lecture_id})
            metrics.JOURNAL_FAILURES.inc()
            writer = None
        self.session = LiveSession(
            lecture_id=self.lecture_id,
            engine=engine,
            language=message.language,
            offset_ms=journal.sample_to_ms(placement.session_start),
            vocabulary=self.lecture.course.vocabulary_terms(),
            on_error=self._transcription_failed,
            journal=writer,
        )
        drain.register(self)
        await self.send(
            text_data=viewer_message(
                "started", language=message.language, offset_ms=placement.position_ms
            )
        )

    async def _transcription_failed(self, error: BaseException) -> None:
        self.session = None  # the failed session cannot be finished; what it stored is kept
        await self.refuse(CloseCode.SERVER_ERROR, "transcription failed")

    async def _end_session(self) -> None:
        """Store whatever was heard; captions committed so far are never lost."""
        session, self.session = self.session, None
        if session is not None:
            await _finish_to_the_end(session)  # its last update clears the partial

    async def drain(self) -> None:
        """The process is stopping: hang up first (the browser keeps its audio and reconnects
        to another pod), then store every caption heard so far (see captions.drain)."""
        session, self.session = self.session, None  # before the hang-up's disconnect takes it
        if session is None:
            return
        await self.close(code=drain.SERVICE_RESTART, reason="server restarting, reconnect")
        await _finish_to_the_end(session)

    async def release(self) -> None:
        await self._end_session()
        if hasattr(self, "lecture") and not getattr(self, "released_broadcaster", False):
            self.released_broadcaster = True
            await database_sync_to_async(services.broadcaster_release)(
                lecture_id=self.lecture_id, channel_name=self.channel_name
            )
        await super().release()

    async def broadcast_replaced(self, event: dict[str, Any]) -> None:
        await self._end_session()
        await self.refuse(CloseCode.REPLACED, "another connection took over this broadcast")

    async def lecture_status(self, event: dict[str, Any]) -> None:
        await super().lecture_status(event)
        if event["message"]["status"] != Lecture.Status.LIVE:
            await self._end_session()
            await self.close(code=int(CloseCode.LECTURE_ENDED), reason="the lecture has ended")


# Sessions finishing after their consumer was cancelled: kept referenced until done.
_finishing: set[asyncio.Task[None]] = set()


async def _finish_to_the_end(session: LiveSession) -> None:
    """Finish the session even if this consumer is cancelled meanwhile (Daphne gives a consumer
    10 s after its client went, and storing the last words of a busy lecture can take longer):
    the finish runs as its own task and is only awaited here."""
    task = asyncio.ensure_future(_finish_and_tell(session))
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)
    await asyncio.shield(task)


async def _finish_and_tell(session: LiveSession) -> None:
    await session.finish()
    try:  # its journal segment is released: the lecture's audio may be joined now
        await database_sync_to_async(services.broadcast_finish)(session.lecture_id)
    except Exception:
        logger.exception("broadcast_finished failed", extra={"lecture_id": session.lecture_id})


def _query_param(scope: dict[str, Any], name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[-1] if values else None
