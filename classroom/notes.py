"""Lecture notes: keywords, sections and an extractive summary computed from the final transcript
(the pipeline itself is `ml.lecture_notes.build_notes`).

The Celery tasks (`process_lecture`, `refresh_live_keywords`, queue `nlp`) and the functions
they run; the ML itself lives in `ml/`. They are queued when the transcript changes (the
`captions.services.transcript_changed` signal) and when a lecture ends (`lectures.lifecycle`).
Results replace a lecture's previous ones in one transaction, so running a step twice gives the
same rows, and a run that started before newer captions arrived stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from captions.models import TranscriptSegment
from captions.search import index_segments
from captions.services import transcript_changed
from classroom.jobs import RETRIED, TRANSIENT_ERRORS, LectureTask, after_commit
from lectures import events, lifecycle
from lectures.models import Keyword, Lecture, Section, Summary
from lectures.selectors import require_course_manager
from ml.background import DocumentFrequencies
from ml.keywords import Keyword as RankedKeyword
from ml.keywords import extract_keywords
from ml.lecture_notes import Caption, LectureNotes, SummaryLine, build_notes

logger = logging.getLogger(__name__)

# The statuses from which notes may be (re)computed: never while the lecture is still live.
PROCESSABLE = (
    Lecture.Status.ENDED,
    Lecture.Status.PROCESSING,
    Lecture.Status.READY,
    Lecture.Status.FAILED,
)


def _segments(lecture_id: int) -> list[tuple[int, str]]:
    return list(
        TranscriptSegment.objects.filter(lecture_id=lecture_id)
        .order_by("seq")
        .values_list("seq", "text")
    )


def _captions(lecture_id: int) -> list[Caption]:
    return [
        Caption(seq, start_ms, end_ms, text)
        for seq, start_ms, end_ms, text in TranscriptSegment.objects.filter(lecture_id=lecture_id)
        .order_by("seq")
        .values_list("seq", "start_ms", "end_ms", "text")
    ]


def course_documents(lecture_id: int) -> DocumentFrequencies:
    """The terms of the course's other lectures with notes: the course's background."""
    course_id = Lecture.objects.values_list("course_id", flat=True).get(pk=lecture_id)
    term_sets = (
        Summary.objects.filter(lecture__course_id=course_id)
        .exclude(lecture_id=lecture_id)
        .values_list("term_counts", flat=True)
    )
    return DocumentFrequencies.from_term_sets(terms.keys() for terms in term_sets if terms)


def compute_keywords(segments: Sequence[tuple[int, str]]) -> list[RankedKeyword]:
    return extract_keywords(
        segments, analyzer=settings.KEYWORD_ANALYZER, top=settings.KEYWORD_COUNT
    )


@dataclass(frozen=True)
class ComputedNotes:
    method: str
    keywords: list[RankedKeyword]
    summary: list[dict[str, Any]]
    sections: list[Section]
    term_counts: dict[str, int]


def _line_data(notes: LectureNotes, line: SummaryLine) -> dict[str, Any]:
    sentences = [notes.sentences[i] for i in line.sentences]
    spans = [span for sentence in sentences for span in sentence.spans]
    return {
        "seq": spans[0].seq,
        "start": spans[0].start,
        "end": spans[0].end,
        "text": notes.line_text(line),
        "score": round(float(line.score), 6),
        "start_ms": sentences[0].start_ms,
        "end_ms": sentences[-1].end_ms,
        "spans": [[span.seq, span.start, span.end] for span in spans],
    }


def compute_lecture_notes(lecture_id: int, captions: Sequence[Caption]) -> ComputedNotes:
    """Keywords, summary and sections of a lecture from its captions (ml.lecture_notes)."""
    from classroom.summary_models import notes_encoder  # loads torch only where it is configured

    notes = build_notes(
        captions,
        notes_encoder(),
        analyzer=settings.KEYWORD_ANALYZER,
        top_keywords=settings.KEYWORD_COUNT,
        documents=course_documents(lecture_id),
    )
    sections = [
        Section(
            lecture_id=lecture_id,
            position=position,
            start_ms=max(section.start_ms, 0),
            end_ms=max(section.end_ms, 0),
            first_seq=notes.sentences[section.start].seq,
            title=section.title[: Section._meta.get_field("title").max_length],
            terms=list(section.terms),
            sentences=[_line_data(notes, line) for line in section.summary],
        )
        for position, section in enumerate(notes.sections, 1)
    ]
    return ComputedNotes(
        method=settings.NOTES_METHOD,
        keywords=notes.keywords,
        summary=[_line_data(notes, line) for line in notes.summary],
        sections=sections,
        term_counts=notes.term_counts,
    )


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


def compute_live_keywords(lecture_id: int) -> bool:
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
        events.publish_on_commit(lecture_id, events.keywords_message(rows))
    return True


def compute_notes(lecture_id: int) -> str:
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
            lifecycle.change_status(lecture_id, Lecture.Status.PROCESSING)

    revision = Lecture.objects.values_list("transcript_revision", flat=True).get(pk=lecture_id)
    captions = _captions(lecture_id)
    through_seq = captions[-1].seq if captions else 0
    index_segments(lecture_id)
    computed = compute_lecture_notes(lecture_id, captions)

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
        rows = _replace_keywords(lecture_id, computed.keywords)
        Summary.objects.update_or_create(
            lecture_id=lecture_id,
            defaults={
                "method": computed.method,
                "sentences": computed.summary,
                "term_counts": computed.term_counts,
            },
        )
        Section.objects.filter(lecture_id=lecture_id).delete()
        Section.objects.bulk_create(computed.sections)
        events.publish_on_commit(lecture_id, events.keywords_message(rows))
        lifecycle.change_status(
            lecture_id,
            Lecture.Status.READY,
            failure_reason="",
            notes_through_seq=through_seq,
            processed_at=timezone.now(),
        )
    return str(Lecture.Status.READY)


def mark_failed(lecture_id: int, reason: str) -> None:
    """Record why the notes could not be computed; the transcript itself is untouched."""
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().filter(pk=lecture_id).first()
        if lecture is None or not lifecycle.can_become(lecture, Lecture.Status.FAILED):
            return
        lifecycle.change_status(lecture_id, Lecture.Status.FAILED, failure_reason=reason[:2000])


@transaction.atomic
def reprocess(*, lecture: Lecture, by: User) -> Lecture:
    """Compute a finished lecture's notes again (after a failure, or after corrections)."""
    require_course_manager(by, lecture.course)
    lecture = lifecycle.locked(lecture.pk)
    finished = (Lecture.Status.ENDED, Lecture.Status.READY, Lecture.Status.FAILED)
    if lecture.status not in finished and not _stuck_in_processing(lecture):
        raise lifecycle.InvalidTransition(
            _("Notes can be computed again only for a finished lecture; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    # The clock of a stuck lecture starts again, so the recovery sweep leaves this run alone.
    Lecture.objects.filter(pk=lecture.pk).update(status_changed_at=timezone.now())
    after_commit(process_lecture, lecture.pk)
    return lecture


def _stuck_in_processing(lecture: Lecture) -> bool:
    """Computing notes longer than they may take: their worker died (classroom.recovery).
    (A recording still being transcribed is the sweep's to requeue, not the instructor's.)"""
    if lecture.status != Lecture.Status.PROCESSING or not lecture.segments.exists():
        return False
    if lecture.status_changed_at is None:
        return True
    return timezone.now() - lecture.status_changed_at > notes_stalled_after()


def notes_stalled_after() -> timedelta:
    """Computing notes longer than this (the hard time limit and a grace) means their worker
    died: the recovery sweep queues them again and the instructor may."""
    return timedelta(seconds=settings.NOTES_TIME_LIMIT_S + settings.NOTES_GRACE_S)


# -- when notes are computed ---------------------------------------------------------------------


@receiver(lifecycle.status_changed, dispatch_uid="classroom.notes.lecture_ended")
def _lecture_ended(*, lecture: Lecture, previous: str, **_kwargs: Any) -> None:
    """Ended (live, or a recording transcribed): the notes are computed after commit."""
    if lecture.status == Lecture.Status.ENDED:
        after_commit(process_lecture, lecture.pk)


@receiver(transcript_changed, dispatch_uid="classroom.notes.transcript_changed")
def _transcript_changed(*, lecture: Lecture, seq: int, **_kwargs: Any) -> None:
    """Live: fresh keywords every LIVE_KEYWORDS_EVERY captions. Finished: the notes again (a
    broadcaster's last words arrive after the end; a correction; the earlier run stands down)."""
    if lecture.status == Lecture.Status.LIVE:
        if seq % settings.LIVE_KEYWORDS_EVERY == 0:
            after_commit(refresh_live_keywords, lecture.pk)
    elif lecture.status in PROCESSABLE:
        after_commit(process_lecture, lecture.pk)


# -- the tasks ------------------------------------------------------------------------------------


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, SoftTimeLimitExceeded):
        return f"Computing the notes took longer than {settings.NOTES_SOFT_TIME_LIMIT_S} s."
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class NotesTask(LectureTask):
    def record_failure(self, lecture_id: int, error: BaseException) -> None:
        mark_failed(lecture_id, _failure_reason(error))


@shared_task(
    base=NotesTask,
    name="classroom.process_lecture",
    **RETRIED,
    soft_time_limit=settings.NOTES_SOFT_TIME_LIMIT_S,
    time_limit=settings.NOTES_TIME_LIMIT_S,
)
def process_lecture(self: Task, lecture_id: int) -> str:
    """Keywords and summary of an ended lecture; the lecture becomes ready (or failed)."""
    return compute_notes(lecture_id)


@shared_task(
    name="classroom.refresh_live_keywords",
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=2,
    retry_backoff=2,
    soft_time_limit=120,
    time_limit=150,
    # A refresh that waited this long is superseded by a newer one anyway.
    expires=300,
)
def refresh_live_keywords(lecture_id: int) -> bool:
    """While a lecture is live: fresh keywords for its viewers every few dozen captions."""
    return compute_live_keywords(lecture_id)
