"""Lecture notes: keywords and an extractive summary computed from the final transcript.

Plain functions called by the Celery tasks in `lectures.tasks` (and tests) — the ML itself lives
in `ml/`. Results replace a lecture's previous ones in one transaction, so running a step twice
gives the same rows, and a run that started before newer captions arrived stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from captions import services as captions_services  # a module: captions.services imports tasks
from captions.models import TranscriptSegment
from captions.search import index_segments
from lectures.models import Keyword, Lecture, Summary
from ml.keywords import Keyword as RankedKeyword
from ml.keywords import extract_keywords
from ml.korean import get_analyzer

logger = logging.getLogger(__name__)

# The statuses from which notes may be (re)computed: never while the lecture is still live.
PROCESSABLE = (
    Lecture.Status.ENDED,
    Lecture.Status.PROCESSING,
    Lecture.Status.READY,
    Lecture.Status.FAILED,
)


@dataclass(frozen=True, slots=True)
class TranscriptSentence:
    """One sentence of the transcript: `text` is `segment.text[start:end]` of segment `seq`."""

    seq: int
    start: int
    end: int
    text: str


def _segments(lecture_id: int) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture_id=lecture_id)
        .order_by("seq")
        .values_list("seq", "text")
    )


def transcript_sentences(segments: Sequence[tuple[int, str]]) -> list[TranscriptSentence]:
    """The transcript cut into sentences (Kiwi's splitter), each remembering its segment."""
    analyzer = get_analyzer(settings.KEYWORD_ANALYZER)
    sentences: list[TranscriptSentence] = []
    for seq, text in segments:
        for sentence in analyzer.sentences(text):
            piece = text[sentence.start : sentence.end].strip()
            if piece:
                start = text.index(piece, sentence.start)
                sentences.append(TranscriptSentence(seq, start, start + len(piece), piece))
    return sentences


def compute_keywords(segments: Sequence[tuple[int, str]]) -> list[RankedKeyword]:
    return extract_keywords(
        segments, analyzer=settings.KEYWORD_ANALYZER, top=settings.KEYWORD_COUNT
    )


def compute_summary(sentences: Sequence[TranscriptSentence]) -> tuple[str, list[dict[str, Any]]]:
    """The summary's method and its sentences (in lecture order) as stored on `Summary`."""
    from lectures.summaries import summarize_texts  # loads torch only where summaries run

    method, picked = summarize_texts([sentence.text for sentence in sentences])
    return method, [
        {
            "seq": sentences[item.index].seq,
            "start": sentences[item.index].start,
            "end": sentences[item.index].end,
            "text": sentences[item.index].text,
            "score": round(float(item.score), 6),
        }
        for item in picked
    ]


def _keyword_rows(lecture_id: int, keywords: Sequence[RankedKeyword]) -> list[Keyword]:
    return [
        Keyword(
            lecture_id=lecture_id,
            rank=rank,
            term=keyword.text[: Keyword._meta.get_field("term").max_length],
            score=keyword.score,
            count=keyword.count,
            occurrences=[list(occurrence) for occurrence in keyword.occurrences],
        )
        for rank, keyword in enumerate(keywords, 1)
    ]


def _replace_keywords(lecture_id: int, keywords: Sequence[RankedKeyword]) -> list[Keyword]:
    Keyword.objects.filter(lecture_id=lecture_id).delete()
    return Keyword.objects.bulk_create(_keyword_rows(lecture_id, keywords))


def refresh_live_keywords(lecture_id: int) -> bool:
    """While a lecture is live: recompute its keywords once `LIVE_KEYWORDS_EVERY` captions have
    arrived since the last time, store them and push them to viewers. True if it did."""
    segments = _segments(lecture_id)
    if not segments:
        return False
    through_seq = segments[-1][0]
    lecture = Lecture.objects.filter(pk=lecture_id).first()
    if lecture is None or lecture.status != Lecture.Status.LIVE:
        return False
    if through_seq - lecture.notes_through_seq < settings.LIVE_KEYWORDS_EVERY:
        return False
    index_segments(lecture_id)  # search finds a live lecture's captions a few dozen late
    keywords = compute_keywords(segments)
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
        # Ended meanwhile (process_lecture owns the notes now) or a newer refresh got here first.
        if lecture.status != Lecture.Status.LIVE or lecture.notes_through_seq >= through_seq:
            return False
        rows = _replace_keywords(lecture_id, keywords)
        lecture.notes_through_seq = through_seq
        lecture.save(update_fields=["notes_through_seq"])
        captions_services.lecture_keywords_publish(lecture_id, rows)
    return True


def process_lecture(lecture_id: int) -> str:
    """After the lecture: keywords and summary from the whole transcript, stored in one
    transaction with the lecture marked ready. Returns the lecture's resulting status."""
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().filter(pk=lecture_id).first()
        if lecture is None:
            return "missing"
        if lecture.status not in PROCESSABLE:
            logger.info("lecture %s is %s: nothing to process", lecture_id, lecture.status)
            return str(lecture.status)
        if (
            lecture.status == Lecture.Status.PROCESSING
            and lecture.recording
            and not lecture.segments.exists()
        ):
            # Its uploaded recording is being transcribed; that task queues the notes after.
            logger.info("lecture %s: recording not transcribed yet", lecture_id)
            return str(lecture.status)
        if lecture.status != Lecture.Status.PROCESSING:
            lecture.status = Lecture.Status.PROCESSING
            lecture.save(update_fields=["status"])
            captions_services.lecture_status_publish(lecture)

    revision = Lecture.objects.values_list("transcript_revision", flat=True).get(pk=lecture_id)
    segments = _segments(lecture_id)
    through_seq = segments[-1][0] if segments else 0
    index_segments(lecture_id)
    keywords = compute_keywords(segments)
    method, summary_sentences = compute_summary(transcript_sentences(segments))

    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
        latest = (
            TranscriptSegment.objects.filter(lecture_id=lecture_id)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        ) or 0
        changed = latest != through_seq or lecture.transcript_revision != revision
        if changed or lecture.status != Lecture.Status.PROCESSING:
            # Captions arrived or were corrected while this ran: the run they queued stores.
            logger.info(
                "lecture %s changed while processing; leaving it to the next run", lecture_id
            )
            return str(lecture.status)
        rows = _replace_keywords(lecture_id, keywords)
        Summary.objects.update_or_create(
            lecture_id=lecture_id, defaults={"method": method, "sentences": summary_sentences}
        )
        lecture.status = Lecture.Status.READY
        lecture.failure_reason = ""
        lecture.notes_through_seq = through_seq
        lecture.processed_at = timezone.now()
        lecture.save(
            update_fields=["status", "failure_reason", "notes_through_seq", "processed_at"]
        )
        captions_services.lecture_keywords_publish(lecture_id, rows)
        captions_services.lecture_status_publish(lecture)
    return str(Lecture.Status.READY)


def mark_failed(lecture_id: int, reason: str) -> None:
    """Record why the notes could not be computed; the transcript itself is untouched."""
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().filter(pk=lecture_id).first()
        if lecture is None or lecture.status == Lecture.Status.LIVE:
            return
        lecture.status = Lecture.Status.FAILED
        lecture.failure_reason = reason[:2000]
        lecture.save(update_fields=["status", "failure_reason"])
        captions_services.lecture_status_publish(lecture)
