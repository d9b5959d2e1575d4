"""Audio that reached the journal but never became a caption: a session died with it (a server
crash, a failed transcription). It is transcribed when the broadcast resumes (before the new
session starts, so captions stay in time order) or when the lecture ends, with no one asking.

Where a dead segment's captions stopped is the end of the last caption stored before the
segment's end; from there to the segment's end is transcribed whole (`ml.offline`, the same
filters as every transcription) and stored as ordinary finals, which viewers receive at once.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db.models import Max

from captions import journal, metrics, services
from captions.models import TranscriptSegment
from ml.asr import WhisperEngine, run_in_asr_thread
from ml.audio import pcm16_to_float32
from ml.offline import transcribe_whole
from ml.subtitles import Cue

logger = logging.getLogger(__name__)


@dataclass
class Unheard:
    claim: journal.ClaimedSegment
    start_ms: int  # where `pcm` starts on the lecture's time line
    pcm: bytes

    @property
    def language(self) -> str:
        return self.claim.segment.language


def claim_unheard(lecture_id: int) -> tuple[list[Unheard], int]:
    """The uncaptioned audio of dead segments, each locked for the caller (release it), and the
    number of segments still held by a live session (their own session captions them)."""
    claims, held = journal.claim_unfinished(lecture_id)
    found = []
    for claim in claims:
        segment = claim.segment
        end = segment.end_sample
        captioned_ms = (
            TranscriptSegment.objects.filter(
                lecture_id=lecture_id, start_ms__lt=journal.sample_to_ms(end)
            ).aggregate(end=Max("end_ms"))["end"]
            or 0
        )
        start = max(segment.start_sample, journal.ms_to_sample(captioned_ms))
        pcm = segment.read(start, end) if start < end else b""
        found.append(Unheard(claim=claim, start_ms=journal.sample_to_ms(start), pcm=pcm))
    return found, held


def transcribe(engine: WhisperEngine, unheard: Unheard) -> list[Cue]:
    if not unheard.pcm:
        return []
    return transcribe_whole(engine, pcm16_to_float32(unheard.pcm), language=unheard.language)


def store(lecture_id: int, unheard: Unheard, cues: list[Cue]) -> int:
    """The recovered captions as finals, then the segment marked done."""
    for cue in cues:
        services.segment_append(
            lecture_id=lecture_id,
            start_ms=unheard.start_ms + cue.start_ms,
            end_ms=unheard.start_ms + cue.end_ms,
            text=cue.text,
        )
    unheard.claim.mark_done()
    metrics.RECOVERED_CAPTIONS.inc(len(cues))
    if cues:
        logger.info(
            "unheard audio captioned",
            extra={"lecture_id": lecture_id, "captions": len(cues), "at_ms": unheard.start_ms},
        )
    return len(cues)


def caption_unheard(lecture_id: int, engine: Callable[[], WhisperEngine]) -> tuple[int, int]:
    """Blocking (a worker): captions stored from dead segments, and segments still held. The
    engine is loaded only when there is audio to transcribe."""
    pieces, held = claim_unheard(lecture_id)
    stored = 0
    try:
        for piece in pieces:
            cues = transcribe(engine(), piece) if piece.pcm else []
            stored += store(lecture_id, piece, cues)
    finally:
        for piece in pieces:
            piece.claim.release()
    return stored, held


async def caption_unheard_async(lecture_id: int, engine: WhisperEngine) -> int:
    """The same from a consumer: files and database off the event loop, ASR on its thread."""
    pieces, _held = await database_sync_to_async(claim_unheard)(lecture_id)
    stored = 0
    try:
        for piece in pieces:
            cues = await run_in_asr_thread(transcribe, engine, piece)
            stored += await database_sync_to_async(store)(lecture_id, piece, cues)
    finally:
        for piece in pieces:
            piece.claim.release()
    return stored
