"""Search over the captions of every lecture a user may see.

Writing: `index_segments(lecture_id)` stores each segment's terms (`ml.search_terms.index_terms`,
Kiwi) in `TranscriptSegment.search_terms`. It runs in a worker or a command, never in the live
caption process: Kiwi costs about 500 MB per process.

Reading: `search_segments(user, query, ...)` returns one page of ranked hits, only from
`lectures_visible_to(user)`.

- **PostgreSQL:** `search_vector` (a generated `to_tsvector('simple', search_terms)` column with
  a GIN index, made by migration `captions.0002`) `@@` a tsquery of the query's groups, ranked by
  `ts_rank_cd(search_vector, query, 1)` (cover density: the terms close together and often,
  divided by 1 + log of the segment's length).
- **Other databases (SQLite):** LIKE over " term " in `search_terms`, ranked in Python by the
  query's term frequency divided by the same length factor. Correct, slower.
- **Segments not indexed yet** (`search_terms == ""`, e.g. the last seconds of a live lecture
  before the worker has run) are still found by a case-insensitive substring match of the
  query's terms in their text, through a small partial index, and rank below indexed hits.

Ties rank the newer lecture first, then the earlier moment of a lecture. When more than
RANKED_MATCHES captions match, only those of the newest lectures (by lecture id) are ranked: the
cost of ranking stays bounded for a word said in every lecture.

Query analysis and highlighting (`ml.search_terms`) run in the web process: Kiwi is loaded there
on the first search (not in a live-only pod, which never searches).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BooleanField, F, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from captions.models import TranscriptSegment
from lectures.selectors import lectures_visible_to
from ml.search_terms import QueryTerm, highlight_spans_many, index_terms_many, query_terms
from ml.subtitles import reading_clock

__all__ = [
    "MAX_LIMIT",
    "RANKED_MATCHES",
    "SNIPPET_CHARS",
    "SearchHit",
    "SearchPage",
    "index_segments",
    "search_segments",
    "tsquery_text",
]

MAX_LIMIT = 100
# Ranking reads every candidate from the table; a word said in a tenth of all captions would make
# that a hundred thousand rows (300 ms). Only the matches of the newest lectures, this many, are
# ranked (docs/decisions.md, Search).
RANKED_MATCHES = 1000
SNIPPET_CHARS = 240
_BATCH = 500
_ID_LIST_LIMIT = 2000
_TABLE = TranscriptSegment._meta.db_table


def index_segments(lecture_id: int, *, reindex: bool = False) -> int:
    """Store the search terms of the lecture's segments not indexed yet (all with `reindex`).
    Returns how many segments were written. Safe to run twice or concurrently."""
    segments = TranscriptSegment.objects.filter(lecture_id=lecture_id)
    if not reindex:
        segments = segments.filter(search_terms="")
    written = 0
    for batch in _batches(list(segments.order_by("seq").values_list("pk", "text"))):
        terms = index_terms_many([text for _pk, text in batch])
        with transaction.atomic():
            for (pk, text), stored in zip(batch, terms, strict=True):
                # The text may have been edited meanwhile: write only over the text we analysed.
                written += TranscriptSegment.objects.filter(pk=pk, text=text).update(
                    search_terms=stored
                )
    return written


def _batches(rows: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    return [rows[i : i + _BATCH] for i in range(0, len(rows), _BATCH)]


@dataclass(frozen=True)
class SearchHit:
    """One matching caption: where it is, its text, and the spans of that text to highlight."""

    segment_id: int
    lecture_id: int
    lecture_title: str
    lecture_date: datetime
    course_id: int
    course_code: str
    seq: int
    start_ms: int
    end_ms: int
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    rank: float
    language: str = "ko"  # the course's language: the snippet's `lang` on the page

    @property
    def snippet_html(self) -> SafeString:
        """The snippet, escaped, with each highlight in `<mark>`."""
        parts: list[str] = []
        cursor = 0
        for start, end in self.highlights:
            parts.append(escape(self.snippet[cursor:start]))
            parts.append(f"<mark>{escape(self.snippet[start:end])}</mark>")
            cursor = end
        parts.append(escape(self.snippet[cursor:]))
        return mark_safe("".join(parts))  # every piece of text is escaped above

    @property
    def start_clock(self) -> str:
        return reading_clock(self.start_ms)


@dataclass(frozen=True)
class SearchPage:
    query: str
    terms: list[QueryTerm]
    hits: list[SearchHit] = field(default_factory=list)
    offset: int = 0
    limit: int = 20
    has_more: bool = False

    @property
    def searchable(self) -> bool:
        """False when the query holds no word that can be searched (empty, only particles)."""
        return bool(self.terms)


def search_segments(
    user: User,
    query: str,
    *,
    course_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """One page of the captions matching every term of `query`, best first, from the lectures
    `user` may see (optionally one course, lectures dated within [date_from, date_to])."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    terms = query_terms(query)
    if not terms:
        return SearchPage(query=query, terms=[], offset=offset, limit=limit)
    lectures = lectures_visible_to(user)
    if course_id is not None:
        lectures = lectures.filter(course_id=course_id)
    if date_from is not None:
        lectures = lectures.filter(scheduled_at__date__gte=date_from)
    if date_to is not None:
        lectures = lectures.filter(scheduled_at__date__lte=date_to)
    # The ids themselves, not a subquery: the planner cannot see through the visibility rules
    # and would guess that every lecture is visible (a student sees a few hundred of 10,000).
    segments = TranscriptSegment.objects.filter(lecture_id__in=lectures.values("pk"))
    if connection.vendor == "postgresql":
        # The planner cannot see through the visibility rules and guesses that every lecture
        # is visible: right for staff, badly wrong for a student (a few hundred of 10,000), for
        # whom it then walks the whole table. A short list of ids it can estimate exactly.
        ids = list(lectures.order_by().values_list("pk", flat=True)[: _ID_LIST_LIMIT + 1])
        if not ids:
            return SearchPage(query=query, terms=terms, offset=offset, limit=limit)
        if len(ids) <= _ID_LIST_LIMIT:
            visible = RawSQL(f'"{_TABLE}"."lecture_id" = ANY(%s)', (ids,), BooleanField())
            segments = TranscriptSegment.objects.filter(visible)
        ranked = _ranked_postgres(segments, terms, limit + 1, offset)
    else:
        ranked = _ranked_python(segments, terms, limit + 1, offset)
    has_more = len(ranked) > limit
    ranked = ranked[:limit]
    rows = TranscriptSegment.objects.select_related("lecture__course").in_bulk(
        [pk for pk, _rank in ranked]
    )
    found = [(rows[pk], rank) for pk, rank in ranked if pk in rows]
    all_spans = highlight_spans_many([segment.text for segment, _rank in found], terms)
    hits = []
    for (segment, rank), spans in zip(found, all_spans, strict=True):
        snippet, highlights = _snippet(segment.text, spans)
        lecture = segment.lecture
        hits.append(
            SearchHit(
                segment_id=segment.pk,
                lecture_id=lecture.pk,
                lecture_title=lecture.title,
                lecture_date=lecture.scheduled_at,
                course_id=lecture.course_id,
                course_code=lecture.course.code,
                seq=segment.seq,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
                snippet=snippet,
                highlights=tuple(highlights),
                rank=rank,
                language=lecture.course.language,
            )
        )
    return SearchPage(
        query=query, terms=terms, hits=hits, offset=offset, limit=limit, has_more=has_more
    )


def _unindexed_match(terms: Sequence[QueryTerm]) -> Q:
    """Segments not indexed yet whose text holds every group (its atoms, or the compound)."""
    condition = Q(search_terms="")
    for term in terms:
        atoms = Q()
        for atom in term.atoms:
            atoms &= Q(text__icontains=atom)
        condition &= atoms | Q(text__icontains=term.joined) if len(term.atoms) > 1 else atoms
    return condition


def _newest(matches: QuerySet[TranscriptSegment]) -> QuerySet[TranscriptSegment]:
    """At most RANKED_MATCHES matches, those of the newest lectures: what gets ranked."""
    return matches.order_by("-lecture_id", "-seq")[:RANKED_MATCHES]


def _quoted(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(terms: Sequence[QueryTerm]) -> str:
    """The groups as `to_tsquery('simple', ...)` text: ('인공' & '지능' | '인공지능') & '모델'."""
    groups = []
    for term in terms:
        atoms = " & ".join(_quoted(atom) for atom in term.atoms)
        groups.append(f"({atoms} | {_quoted(term.joined)})" if len(term.atoms) > 1 else atoms)
    return " & ".join(groups)


def _ranked_postgres(
    segments: QuerySet[TranscriptSegment], terms: Sequence[QueryTerm], count: int, offset: int
) -> list[tuple[int, float]]:
    """Rank the newest RANKED_MATCHES matches with ts_rank_cd and return one page of them.
    The RawSQL here names the table, so this query must stay the outermost Django query: it is
    compiled on its own and wrapped in plain SQL for the ordering."""
    tsquery = tsquery_text(terms)
    vector = f'"{_TABLE}"."search_vector"'
    matches = RawSQL(
        f"{vector} @@ to_tsquery('simple', %s)", (tsquery,), output_field=BooleanField()
    )
    rank = RawSQL(
        f"ts_rank_cd({vector}, to_tsquery('simple', %s), 1)", (tsquery,), output_field=FloatField()
    )
    candidates = (
        _newest(segments.filter(Q(matches) | _unindexed_match(terms)))
        .annotate(rank=rank, lecture_date=F("lecture__scheduled_at"))
        .values("id", "lecture_id", "seq", "rank", "lecture_date")
    )
    sql, params = candidates.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.rank FROM ({sql}) AS c "
            "ORDER BY c.rank DESC, c.lecture_date DESC, c.lecture_id, c.seq LIMIT %s OFFSET %s",
            [*params, count, offset],
        )
        return [(pk, float(value)) for pk, value in cursor.fetchall()]


def _best(
    scored: list[tuple[float, datetime, int, int, int]], count: int, offset: int
) -> list[tuple[int, float]]:
    """(rank, lecture date, lecture, seq, pk): best rank first, then the newer lecture, then the
    earlier moment."""
    scored.sort(key=lambda row: (-row[0], -row[1].timestamp(), row[2], row[3]))
    return [(pk, rank) for rank, _at, _lecture, _seq, pk in scored[offset : offset + count]]


def _python_rank(stored: str, terms: Sequence[QueryTerm]) -> float:
    """Occurrences of the query's groups, divided by 1 + log of the segment's term count."""
    tokens = stored.split()
    if not tokens:
        return 0.0
    counts = Counter(tokens)
    score = 0
    for term in terms:
        atoms = min(counts[atom] for atom in term.atoms)
        score += max(atoms, counts[term.joined]) if len(term.atoms) > 1 else atoms
    return score / (1 + math.log(len(tokens)))


def _ranked_python(
    segments: QuerySet[TranscriptSegment], terms: Sequence[QueryTerm], count: int, offset: int
) -> list[tuple[int, float]]:
    indexed = Q()
    for term in terms:
        atoms = Q()
        for atom in term.atoms:
            atoms &= Q(search_terms__contains=f" {atom} ")
        joined = Q(search_terms__contains=f" {term.joined} ")
        indexed &= (atoms | joined) if len(term.atoms) > 1 else atoms
    candidates = _newest(segments.filter(indexed | _unindexed_match(terms))).values_list(
        "pk", "search_terms", "lecture_id", "lecture__scheduled_at", "seq"
    )
    scored = [
        (_python_rank(stored, terms), scheduled_at, lecture_id, seq, pk)
        for pk, stored, lecture_id, scheduled_at, seq in candidates
    ]
    return _best(scored, count, offset)


def _snippet(
    text: str, spans: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS
) -> tuple[str, list[tuple[int, int]]]:
    """The whole caption when short; else a window of about `width` characters around the first
    highlight, with "…" where it was cut. Spans are moved to the snippet's offsets."""
    if len(text) <= width:
        return text, list(spans)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 3, len(text) - width))
    end = start + width
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [
        (max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end and b > start
    ]
    return prefix + text[start:end] + suffix, inside
