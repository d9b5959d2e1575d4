"""process_lecture: keywords and summary after the lecture, stored once, failures recorded."""

from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from captions.models import TranscriptSegment
from captions.services import segment_append
from classroom import notes
from hearus_testkit.texts import LECTURE
from lectures.models import Keyword, Lecture, Summary
from lectures.services import lecture_end
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def live_lecture_with_captions(world: World, lines: list[str] = LECTURE) -> Lecture:
    lecture = world.lecture
    lecture.segments.all().delete()
    lecture.status = Lecture.Status.LIVE
    lecture.save()
    for i, line in enumerate(lines):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=i + 1, start_ms=i * 4000, end_ms=i * 4000 + 3500, text=line
        )
    return lecture


def stored_notes(lecture: Lecture) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    keywords = list(
        Keyword.objects.filter(lecture=lecture)
        .order_by("rank")
        .values_list("rank", "term", "score", "count", "occurrences")
    )
    return keywords, Summary.objects.get(lecture=lecture).sentences


def test_ending_a_lecture_computes_its_notes(world: World) -> None:
    lecture = live_lecture_with_captions(world)
    lecture_end(lecture=lecture, by=world.instructor)  # queues process_lecture after commit

    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY, lecture.failure_reason
    assert lecture.processed_at is not None
    assert lecture.notes_through_seq == len(LECTURE)

    keywords, summary = stored_notes(lecture)
    terms = [term for _, term, *_ in keywords]
    assert {"신경망", "역전파", "기울기"} <= set(terms[:8])
    segments = {s.seq: s.text for s in TranscriptSegment.objects.filter(lecture=lecture)}
    for _, term, _, count, occurrences in keywords:
        assert count == len(occurrences)
        for seq, start, end in occurrences:
            assert segments[seq][start:end].replace(" ", "") == term.replace(" ", "")

    assert 3 <= len(summary) < len(LECTURE)
    assert [s["seq"] for s in summary] == sorted(s["seq"] for s in summary)
    for sentence in summary:
        assert segments[sentence["seq"]][sentence["start"] : sentence["end"]] == sentence["text"]
    # The filler (windows, "can you hear me", homework) is not what a summary is made of.
    chosen = " ".join(s["text"] for s in summary)
    assert "창문" not in chosen and "들리시나요" not in chosen


def test_running_it_twice_gives_the_same_rows(world: World) -> None:
    lecture = live_lecture_with_captions(world)
    lecture_end(lecture=lecture, by=world.instructor)
    first = stored_notes(lecture)
    assert notes.process_lecture.apply(args=[lecture.pk], throw=False).get() == Lecture.Status.READY
    assert stored_notes(lecture) == first
    assert Summary.objects.filter(lecture=lecture).count() == 1


def test_captions_stored_after_the_end_are_included(world: World) -> None:
    """The broadcaster saves its last words after the instructor ended the lecture."""
    lecture = live_lecture_with_captions(world, LECTURE[:10])
    lecture_end(lecture=lecture, by=world.instructor)
    segment_append(lecture_id=lecture.pk, start_ms=60_000, end_ms=63_000, text=LECTURE[10])
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY
    assert lecture.notes_through_seq == 11


def test_a_run_overtaken_by_new_captions_stores_nothing_and_the_newer_run_wins(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lecture = live_lecture_with_captions(world, LECTURE[:12])
    lecture.status = Lecture.Status.ENDED
    lecture.save()
    real_notes = notes.compute_lecture_notes
    calls = []

    def caption_arrives_meanwhile(lecture_id: int, captions: Any) -> Any:
        calls.append(len(captions))
        if len(calls) == 1:  # the first run: a late caption commits (and queues a run)
            segment_append(lecture_id=lecture.pk, start_ms=90_000, end_ms=92_000, text=LECTURE[12])
        return real_notes(lecture_id, captions)

    monkeypatch.setattr(notes, "compute_lecture_notes", caption_arrives_meanwhile)
    notes.process_lecture(lecture.pk)
    lecture.refresh_from_db()
    assert len(calls) == 2
    assert lecture.status == Lecture.Status.READY
    assert lecture.notes_through_seq == 13


def test_a_failure_is_recorded_on_the_lecture_and_the_transcript_kept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lecture = live_lecture_with_captions(world)
    lecture.status = Lecture.Status.ENDED
    lecture.save()

    def broken(lecture_id: int, captions: Any) -> Any:
        raise RuntimeError("the encoder folder is missing")

    monkeypatch.setattr(notes, "compute_lecture_notes", broken)
    result = notes.process_lecture.apply(args=[lecture.pk], throw=False)
    assert result.failed()
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    assert "the encoder folder is missing" in lecture.failure_reason
    assert TranscriptSegment.objects.filter(lecture=lecture).count() == len(LECTURE)
    assert not Summary.objects.filter(lecture=lecture).exists()

    monkeypatch.undo()  # fixed: running it again succeeds and clears the reason
    notes.process_lecture.apply(args=[lecture.pk], throw=False)
    lecture.refresh_from_db()
    assert (lecture.status, lecture.failure_reason) == (Lecture.Status.READY, "")


def test_running_out_of_time_is_a_failure_with_a_reason(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lecture = live_lecture_with_captions(world, LECTURE[:5])
    lecture.status = Lecture.Status.ENDED
    lecture.save()

    def too_slow(lecture_id: int, captions: Any) -> Any:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(notes, "compute_lecture_notes", too_slow)
    notes.process_lecture.apply(args=[lecture.pk], throw=False)
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    assert "took longer than" in lecture.failure_reason


def test_a_transient_database_error_is_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lecture = live_lecture_with_captions(world, LECTURE[:8])
    lecture.status = Lecture.Status.ENDED
    lecture.save()
    real_notes = notes.compute_lecture_notes
    attempts = []

    def flaky(lecture_id: int, captions: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_notes(lecture_id, captions)

    monkeypatch.setattr(notes, "compute_lecture_notes", flaky)
    notes.process_lecture.apply(args=[lecture.pk], throw=False)
    lecture.refresh_from_db()
    assert len(attempts) == 2
    assert lecture.status == Lecture.Status.READY


def test_a_lecture_without_captions_is_ready_with_empty_notes(world: World) -> None:
    lecture = live_lecture_with_captions(world, [])
    lecture_end(lecture=lecture, by=world.instructor)
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.READY
    assert Summary.objects.get(lecture=lecture).sentences == []
    assert not Keyword.objects.filter(lecture=lecture).exists()


def test_a_live_lecture_is_never_processed(world: World) -> None:
    lecture = live_lecture_with_captions(world, LECTURE[:3])
    assert notes.process_lecture(lecture.pk) == Lecture.Status.LIVE
    assert not Summary.objects.filter(lecture=lecture).exists()
