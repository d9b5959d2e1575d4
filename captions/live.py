"""One broadcast of one lecture: audio in, finals stored and published, partials published.

No socket here: the broadcast consumer feeds PCM frames in and calls `finish()` at the end;
tests can drive a session directly. ASR runs on the process's ASR thread, never on the event
loop, and in a background task so that receiving audio never waits for inference.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from channels.db import database_sync_to_async

from captions import capacity, metrics, services
from captions.journal import JournalWriter
from ml.asr import SpeechRecognizer, run_in_asr_thread
from ml.audio import pcm16_to_float32
from ml.streaming import FinalCaption, StreamingTranscriber, StreamUpdate

logger = logging.getLogger(__name__)


# Viewers and the broadcaster are told when captions fall this far behind the speech, and told
# again when they are back under DELAY_CLEAR_S (hysteresis: no flicker around one number).
DELAY_NOTICE_S = 3.0
DELAY_CLEAR_S = 1.5


class DelayNotice:
    """When to tell everyone how late the captions are: returns the seconds to announce (0 to
    clear the notice) or None when nothing changed worth saying."""

    def __init__(self) -> None:
        self.shown = 0  # seconds announced; 0 while no notice is up

    def update(self, lag_s: float) -> int | None:
        if self.shown == 0:
            if lag_s <= DELAY_NOTICE_S:
                return None
            self.shown = max(1, round(lag_s))
            return self.shown
        if lag_s < DELAY_CLEAR_S:
            self.shown = 0
            return 0
        seconds = max(1, round(lag_s))
        if abs(seconds - self.shown) < 2:  # only changes a reader would care about
            return None
        self.shown = seconds
        return seconds


class LiveSession:
    def __init__(
        self,
        *,
        lecture_id: int,
        engine: SpeechRecognizer,
        language: str,
        offset_ms: int,
        vocabulary: Sequence[str] = (),
        on_error: Callable[[BaseException], Awaitable[None]] | None = None,
        journal: JournalWriter | None = None,
    ) -> None:
        self.lecture_id = lecture_id
        # Every frame fed is kept there first; the segment is marked captioned only when
        # `finish` has stored everything (captions.journal).
        self.journal = journal
        self._journal_failed = False
        self._failed = False
        # Stream times start at 0 on every connection; the offset places them in the lecture.
        self.offset_ms = offset_ms
        self.transcriber = StreamingTranscriber(engine, language=language, vocabulary=vocabulary)
        self._audio_ready = asyncio.Event()
        self._last_partial = ""
        self._on_error = on_error
        self._closed = False
        self._arrivals = metrics.AudioArrivals()  # for the caption-latency metric
        self._rtf = metrics.RealTimeFactor()
        self._delay = DelayNotice()
        self._dropped = Counter[str]()
        self._counted = True
        metrics.LIVE_LECTURES.inc()
        capacity.session_started(lecture_id)
        self._worker = asyncio.create_task(self._transcribe_continuously())

    def feed(self, pcm16: bytes) -> None:
        if self._closed:
            return
        self._keep(pcm16)
        self._arrivals.received(pcm16)
        self.transcriber.insert_audio(pcm16_to_float32(pcm16))
        self._audio_ready.set()

    def _keep(self, pcm16: bytes) -> None:
        if self.journal is None or self._journal_failed:
            return
        try:
            self.journal.append(pcm16)
        except OSError:
            # The captions go on; only the acknowledgements stop (the page keeps the audio).
            self._journal_failed = True
            metrics.JOURNAL_FAILURES.inc()
            logger.exception("audio journal failed", extra={"lecture_id": self.lecture_id})

    def _close_journal(self, *, transcribed: bool) -> None:
        if self.journal is not None:
            try:
                self.journal.close(transcribed=transcribed)
            except OSError:
                logger.exception(
                    "audio journal close failed", extra={"lecture_id": self.lecture_id}
                )

    async def _transcribe_continuously(self) -> None:
        try:
            while True:
                await self._audio_ready.wait()
                self._audio_ready.clear()
                if self._closed:
                    return
                update = await run_in_asr_thread(self.transcriber.process)
                await self._publish(update)
        except Exception as error:  # the broadcaster must hear about it, not a silent stall
            logger.exception("live transcription failed", extra={"lecture_id": self.lecture_id})
            self._failed = True
            self._uncount()
            # What it held but never captioned is transcribed from the journal later.
            self._close_journal(transcribed=False)
            if self._on_error is not None:
                await self._on_error(error)

    async def _publish(self, update: StreamUpdate) -> None:
        stats = self.transcriber.stats
        self._rtf.update(audio_s=stats.audio_s, inference_s=stats.inference_s)
        self._count_dropped(stats.dropped_by_reason)
        metrics.CAPTION_LAG.observe(update.lag_s)
        for caption in update.finals:
            await self._store_final(caption)
        if update.partial != self._last_partial:
            self._last_partial = update.partial
            await services.partial_publish(lecture_id=self.lecture_id, text=update.partial)
        seconds = self._delay.update(update.lag_s)
        if seconds is not None:
            await services.delay_publish(lecture_id=self.lecture_id, seconds=seconds)

    def _count_dropped(self, by_reason: Counter[str]) -> None:
        for reason, total in by_reason.items():
            new = total - self._dropped[reason]
            if new > 0:
                metrics.DROPPED_WORDS.labels(reason=reason).inc(new)
                self._dropped[reason] = total

    async def _store_final(self, caption: FinalCaption) -> None:
        started = time.perf_counter()
        await database_sync_to_async(services.segment_append)(
            lecture_id=self.lecture_id,
            start_ms=self.offset_ms + caption.start_ms,
            end_ms=self.offset_ms + caption.end_ms,
            text=caption.text,
        )
        metrics.observe_caption_latency(self._arrivals.latency_s(caption.end_ms))
        logger.debug(
            "final stored",
            extra={"lecture_id": self.lecture_id, "ms": (time.perf_counter() - started) * 1e3},
        )

    async def finish(self) -> None:
        """Stop listening and store everything heard so far as finals: nothing said is lost."""
        if self._closed:
            return
        self._closed = True
        # Never cancel the worker mid-step: the finals of a step in flight would be lost.
        self._audio_ready.set()
        transcribed = False
        try:
            await self._worker
            if self._failed:  # its journal is closed uncaptioned: recovered from there
                return
            update = await run_in_asr_thread(self.transcriber.finish)
            await self._publish(update)
            transcribed = True
        finally:
            self._uncount()
            self._close_journal(transcribed=transcribed)

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            metrics.LIVE_LECTURES.dec()
            capacity.session_ended(self.lecture_id)

    @property
    def real_time_factor(self) -> float:
        return self.transcriber.stats.real_time_factor
