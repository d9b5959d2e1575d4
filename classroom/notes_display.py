"""The notes of a lecture as readers see them: summary, sections (time, title, their summary
lines), keywords and the transcript grouped into paragraphs at pauses, with keyword occurrences
marked. Used by the page, the exports and the API.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from captions.models import TranscriptSegment
from lectures.models import Keyword, Lecture, Section, Summary
from ml.subtitles import reading_clock

# A pause at least this long between two captions starts a new paragraph.
PARAGRAPH_PAUSE_MS = 2500
# ...and a paragraph never runs longer than this, so long monologues still break up.
PARAGRAPH_MAX_MS = 90_000


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of a caption's text; `keyword` is the keyword's rank where the run is one."""

    text: str
    keyword: int | None = None


@dataclass(frozen=True, slots=True)
class NoteSegment:
    seq: int
    start_ms: int
    end_ms: int
    text: str
    pieces: tuple[Piece, ...]

    @property
    def clock(self) -> str:
        return reading_clock(self.start_ms)


@dataclass(frozen=True, slots=True)
class Paragraph:
    segments: tuple[NoteSegment, ...]

    @property
    def start_ms(self) -> int:
        return self.segments[0].start_ms

    @property
    def clock(self) -> str:
        return reading_clock(self.start_ms)


@dataclass(frozen=True)
class SummaryLine:
    seq: int
    text: str
    start_ms: int

    @property
    def clock(self) -> str:
        return reading_clock(self.start_ms)


@dataclass(frozen=True)
class NoteSection:
    position: int
    title: str
    start_ms: int
    end_ms: int
    first_seq: int
    lines: list[SummaryLine]

    @property
    def clock(self) -> str:
        return reading_clock(self.start_ms)


@dataclass(frozen=True)
class NoteKeyword:
    rank: int
    term: str
    score: float
    count: int
    occurrences: list[tuple[int, int, int]]  # (seq, start, end)

    @property
    def first_seq(self) -> int | None:
        return self.occurrences[0][0] if self.occurrences else None


@dataclass(frozen=True)
class Notes:
    lecture: Lecture
    summary: list[SummaryLine]
    keywords: list[NoteKeyword]
    paragraphs: list[Paragraph]
    segment_count: int = 0
    sections: list[NoteSection] = field(default_factory=list)


def mark_spans(text: str, spans: Sequence[tuple[int, int, int]]) -> tuple[Piece, ...]:
    """Cut `text` into pieces at the (start, end, rank) spans; overlapping spans lose to the one
    that starts first (then the longer one)."""
    pieces: list[Piece] = []
    position = 0
    for start, end, rank in sorted(spans, key=lambda span: (span[0], -span[1])):
        start, end = max(start, 0), min(end, len(text))
        if start < position or start >= end:
            continue
        if start > position:
            pieces.append(Piece(text[position:start]))
        pieces.append(Piece(text[start:end], rank))
        position = end
    if position < len(text):
        pieces.append(Piece(text[position:]))
    return tuple(pieces)


def group_paragraphs(
    segments: Sequence[NoteSegment],
    *,
    pause_ms: int = PARAGRAPH_PAUSE_MS,
    max_ms: int = PARAGRAPH_MAX_MS,
) -> list[Paragraph]:
    paragraphs: list[list[NoteSegment]] = []
    for segment in segments:
        if paragraphs:
            current = paragraphs[-1]
            pause = segment.start_ms - current[-1].end_ms
            if pause < pause_ms and segment.end_ms - current[0].start_ms <= max_ms:
                current.append(segment)
                continue
        paragraphs.append([segment])
    return [Paragraph(tuple(group)) for group in paragraphs]


def _note_keyword(keyword: Keyword) -> NoteKeyword:
    occurrences = sorted(
        (int(seq), int(start), int(end)) for seq, start, end in keyword.occurrences
    )
    return NoteKeyword(keyword.rank, keyword.term, keyword.score, keyword.count, occurrences)


def _occurrence_spans(keywords: Sequence[NoteKeyword]) -> dict[int, list[tuple[int, int, int]]]:
    spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for keyword in keywords:
        for seq, start, end in keyword.occurrences:
            spans[seq].append((start, end, keyword.rank))
    return spans


def lecture_notes(lecture: Lecture) -> Notes:
    """Everything the notes page, the exports and the API show of one lecture."""
    rows = list(
        TranscriptSegment.objects.filter(lecture=lecture)
        .order_by("seq")
        .values_list("seq", "start_ms", "end_ms", "text")
    )
    keywords = [_note_keyword(k) for k in Keyword.objects.filter(lecture=lecture).order_by("rank")]
    spans = _occurrence_spans(keywords)
    segments = [
        NoteSegment(seq, start, end, text, mark_spans(text, spans.get(seq, [])))
        for seq, start, end, text in rows
    ]
    starts = {segment.seq: segment.start_ms for segment in segments}
    summary = Summary.objects.filter(lecture=lecture).first()
    sections = [
        NoteSection(
            section.position,
            section.title,
            section.start_ms,
            section.end_ms,
            section.first_seq,
            _summary_lines(section.sentences, starts),
        )
        for section in Section.objects.filter(lecture=lecture).order_by("position")
    ]
    return Notes(
        lecture=lecture,
        summary=_summary_lines(summary.sentences if summary else [], starts),
        keywords=keywords,
        paragraphs=group_paragraphs(segments),
        segment_count=len(segments),
        sections=sections,
    )


def _summary_lines(items: Sequence[dict[str, Any]], starts: dict[int, int]) -> list[SummaryLine]:
    """Stored summary items whose caption still exists; the time is the sentence's own (older
    rows without one: their caption's start)."""
    return [
        SummaryLine(
            int(item["seq"]),
            str(item["text"]),
            int(item.get("start_ms", starts[int(item["seq"])])),
        )
        for item in items
        if int(item["seq"]) in starts
    ]


def notes_as_data(notes: Notes) -> dict[str, Any]:
    """The notes as JSON-ready data (the API's answer)."""
    lecture = notes.lecture
    return {
        "lecture": {
            "id": lecture.pk,
            "title": lecture.title,
            "course": lecture.course.code,
            "status": lecture.status,
            "scheduled_at": lecture.scheduled_at.isoformat(),
            "processed_at": lecture.processed_at.isoformat() if lecture.processed_at else None,
        },
        "summary": [{"seq": s.seq, "start_ms": s.start_ms, "text": s.text} for s in notes.summary],
        "sections": [
            {
                "title": section.title,
                "start_ms": section.start_ms,
                "end_ms": section.end_ms,
                "seq": section.first_seq,
                "summary": [
                    {"seq": s.seq, "start_ms": s.start_ms, "text": s.text} for s in section.lines
                ],
            }
            for section in notes.sections
        ],
        "keywords": [
            {
                "term": k.term,
                "score": k.score,
                "count": k.count,
                "occurrences": [{"seq": o[0], "start": o[1], "end": o[2]} for o in k.occurrences],
            }
            for k in notes.keywords
        ],
        "paragraphs": [
            [
                {"seq": s.seq, "start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text}
                for s in paragraph.segments
            ]
            for paragraph in notes.paragraphs
        ],
    }
