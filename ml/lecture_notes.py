"""Lecture notes from timed captions: real sentences, sections where the topic shifts, a summary
with coverage, and topic keywords. The one pipeline behind the notes page, its exports, the API
and `manage.py summarize` / `manage.py keywords`.

1. **Sentences, not captions** (`ml.caption_sentences`): the captions joined and split again by
   Kiwi into real sentences, each with the caption pieces and the time span it came from.
2. **Sentence vectors**: by default the TF-IDF vectors of the terms each sentence names
   (`lexical_vectors`, idf over the lecture's sentences); with an `encode` function (e5,
   NOTES_METHOD=e5) its vectors, centred on the lecture's mean and re-normalised: e5's raw
   cosines all sit between about 0.7 and 1, centred ones spread over [-1, 1].
3. **Sections** (`find_sections`): TextTiling over the vectors. At each gap between sentences,
   the cosine of the mean vector of the sentences before and after it, a window of a quarter of
   an average section (`TILE` 6 to `MAX_TILE` 20 sentences), smoothed over +-`SMOOTH` gaps as
   TextTiling does; a gap's depth is how far that
   similarity falls below the highest similarity on either side; a pause in speech before the
   gap adds `PAUSE_BONUS` x min(pause / 10 s, 1). The deepest gaps become boundaries, at least
   a third of the average section (and `MIN_SECTION_SENTENCES`) apart, as many as
   `section_count` asks: one a `MINUTES_PER_SECTION` minutes of lecture (a 90-minute lecture:
   11), within [1, 15].
4. **Scores** (`sentence_scores`): a weighted mean of two z-scores: centrality (a sentence's
   centred cosine to the centroid of its section) and topic (the summed keyness,
   `ml.keywords.keyness`, of the distinct terms it names, over (terms + 1) ** `LENGTH_EXPONENT`).
   Speech (captions with times) weighs them `CENTRALITY_SHARE` : 1 - `CENTRALITY_SHARE` with
   `LENGTH_EXPONENT`; a text without times (a written document) uses the `*_WRITTEN` values
   learned on a development set of written Korean, and adds `LEAD_WEIGHT_WRITTEN` times a
   position prior (`position_prior`, z-scored -ln(1 + position)); speech adds none (a talk
   opens with greetings, not with its point). Sentences too short to stand alone
   (fewer than `MIN_SUMMARY_CHARS` characters or fewer than two terms) are not candidates.
5. **Selection** (`select_summary`): the whole-lecture summary gives each section's best
   sentence a place first (sections by length, longest first, while places remain), then fills
   the rest best-first, at most `ceil(n / sections) + 1` a section. A candidate is skipped when
   it is the neighbour of a chosen sentence (one thought said on over two sentences), or when
   it repeats a chosen line: half of its content terms already chosen in one line (Jaccard of
   the term sets >= `DUPLICATE_TERMS`), or a centred cosine >= `DUPLICATE_COSINE`. A section's
   own summary: 1 to 3 sentences by its length, the same way.
6. **Questions.** A chosen sentence that answers a question (the sentence before it is a
   question, within `QA_GAP_MS`, naming a term the answer names too) brings the question
   along; a chosen question brings its answer. A summary line is one or two sentences.

Nothing here imports Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ml.background import DocumentFrequencies
from ml.caption_sentences import (
    Caption,
    NoteSentence,
    Span,
    caption_sentences,
    is_question,
    read_captions,
)
from ml.keywords import Keyword, Mention, keyness, lecture_mentions, rank_keywords
from ml.korean import Analyzer, get_analyzer

__all__ = [
    "Caption",
    "LectureNotes",
    "NoteSection",
    "NoteSentence",
    "Span",
    "SummaryLine",
    "build_notes",
    "caption_sentences",
    "find_sections",
    "read_captions",
    "section_count",
    "select_summary",
    "sentence_scores",
    "summary_length",
]

TILE = 6
MAX_TILE = 20
PAUSE_BONUS = 0.15
SMOOTH = 2  # gap similarities averaged over +-2 gaps before depths are taken
MIN_SECTION_SENTENCES = 8
MINUTES_PER_SECTION = 8.0
SENTENCES_PER_MINUTE = 14.0  # plain text without times: ~1,200 sentences in 90 minutes
MAX_SECTIONS = 15
MIN_SUMMARY_CHARS = 15
DUPLICATE_TERMS = 0.5
DUPLICATE_COSINE = 0.8
QA_GAP_MS = 30_000
# Scoring of speech (captions with times): centrality and topic weigh the same, and the topic
# score divides by sqrt(terms + 1) (a long run-on spoken sentence gains no advantage).
CENTRALITY_SHARE = 0.5
LENGTH_EXPONENT = 0.5
# Scoring of a text without times (a written document): learned on a development set of written
# Korean (sci-news-sum-kr-50, 50 news articles with tagged summary sentences;
# `bench/tune_written_scoring.py`: a grid of centrality share x length exponent x lead weight,
# chosen on articles 01-25, checked on 26-50), never on the test sets (kobill, pyconkr). The
# chosen point: topic alone, not divided by length (a sentence's summed keyness), no position
# prior: mean ROUGE-1/2/L F1 71.5 on 01-25 and 65.9 on 26-50, against 55.8 and 60.6 for the
# speech weights; every lead weight above 0 lowered it on 01-25. Speech never gets a prior (a
# talk opens with greetings, not with its point) and keeps its own weights above.
CENTRALITY_SHARE_WRITTEN = 0.0
LENGTH_EXPONENT_WRITTEN = 0.0
LEAD_WEIGHT_WRITTEN = 0.0
MIN_SUMMARY = 3
MAX_SUMMARY = 15

FloatArray = npt.NDArray[np.float32]
Encode = Callable[[list[str]], FloatArray]


@dataclass(frozen=True)
class SummaryLine:
    """One line of a summary: sentence indices (a question and its answer, or one sentence)."""

    sentences: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class NoteSection:
    start: int  # first sentence index
    end: int  # one past the last
    start_ms: int
    end_ms: int
    title: str
    terms: tuple[str, ...]
    summary: tuple[SummaryLine, ...]


@dataclass(frozen=True)
class LectureNotes:
    sentences: list[NoteSentence]
    sections: list[NoteSection]
    summary: list[SummaryLine]
    keywords: list[Keyword]
    scores: list[float] = field(default_factory=list)
    term_counts: dict[str, int] = field(default_factory=dict)  # every term of the lecture

    def line_text(self, line: SummaryLine) -> str:
        return " ".join(self.sentences[i].text for i in line.sentences)


# --- 2-3. vectors and sections -------------------------------------------------------------------


def centred(vectors: FloatArray) -> FloatArray:
    """Vectors minus their mean, re-normalised (module doc, step 2)."""
    if len(vectors) == 0:
        return vectors
    shifted = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    result: FloatArray = (shifted / np.maximum(norms, 1e-9)).astype(np.float32)
    return result


def section_count(n_sentences: int, minutes: float | None) -> int:
    """How many sections: one per MINUTES_PER_SECTION minutes (estimated from the sentence count
    without times), within [1, MAX_SECTIONS], at most one per MIN_SECTION_SENTENCES sentences."""
    if minutes is None or minutes <= 0:
        minutes = n_sentences / SENTENCES_PER_MINUTE
    wanted = max(1, min(MAX_SECTIONS, round(minutes / MINUTES_PER_SECTION)))
    return max(1, min(wanted, n_sentences // MIN_SECTION_SENTENCES))


def find_sections(
    vectors: FloatArray, pauses_ms: Sequence[int], count: int
) -> list[tuple[int, int]]:
    """[start, end) sentence ranges of `count` sections (fewer when no gap qualifies), by depth
    of the similarity valley at each gap plus a bonus for a pause (module doc, step 3)."""
    n = len(vectors)
    if n == 0:
        return []
    if count <= 1 or n < 2 * MIN_SECTION_SENTENCES:
        return [(0, n)]
    # The window grows with the sections asked for: a quarter of an average section, 6 to 20.
    tile = max(TILE, min(MAX_TILE, n // (4 * count)))
    cumulative = np.concatenate([np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)])
    similarity = np.zeros(n, dtype=np.float64)  # similarity[g]: gap before sentence g
    for gap in range(1, n):
        left = cumulative[gap] - cumulative[max(0, gap - tile)]
        right = cumulative[min(n, gap + tile)] - cumulative[gap]
        denominator = float(np.linalg.norm(left) * np.linalg.norm(right)) or 1.0
        similarity[gap] = float(left @ right) / denominator
    similarity[1:] = smoothed(similarity[1:], SMOOTH)
    depth = np.zeros(n, dtype=np.float64)
    for gap in range(1, n):
        left_peak = similarity[max(1, gap - 3 * tile) : gap + 1].max()
        right_peak = similarity[gap : min(n, gap + 3 * tile + 1)].max()
        depth[gap] = (left_peak - similarity[gap]) + (right_peak - similarity[gap])
        depth[gap] += PAUSE_BONUS * min(pauses_ms[gap] / 10_000, 1.0)
    # No section shorter than a third of the average one (nor MIN_SECTION_SENTENCES).
    shortest = max(MIN_SECTION_SENTENCES, n // (3 * count))
    boundaries: list[int] = []
    for gap in sorted(range(1, n), key=lambda g: (-depth[g], g)):
        if len(boundaries) == count - 1 or depth[gap] <= 0:
            break
        if gap < shortest or n - gap < shortest:
            continue
        if all(abs(gap - b) >= shortest for b in boundaries):
            boundaries.append(gap)
    edges = [0, *sorted(boundaries), n]
    return list(itertools_pairwise(edges))


def smoothed(values: npt.NDArray[np.float64], width: int) -> npt.NDArray[np.float64]:
    """Moving average over +-`width` neighbours (edges repeated), as TextTiling smooths its gap
    scores: one noisy gap (a digression, a recognition error) no longer makes a valley."""
    if width <= 0 or len(values) == 0:
        return values
    padded = np.pad(values, width, mode="edge")
    kernel = np.full(2 * width + 1, 1.0 / (2 * width + 1))
    result: npt.NDArray[np.float64] = np.convolve(padded, kernel, mode="valid")
    return result


def itertools_pairwise(values: Sequence[int]) -> list[tuple[int, int]]:
    return [(values[i], values[i + 1]) for i in range(len(values) - 1)]


# --- 4. scores -----------------------------------------------------------------------------------


def _z(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    spread = float(values.std())
    if spread == 0.0:
        return np.zeros_like(values)
    result: npt.NDArray[np.float64] = (values - values.mean()) / spread
    return result


def candidates(sentences: Sequence[str], terms: Sequence[Sequence[str]]) -> list[bool]:
    """Sentences that can stand alone in a summary (module doc, step 4)."""
    return [
        len(text.replace(" ", "")) >= MIN_SUMMARY_CHARS and len(set(words)) >= 2
        for text, words in zip(sentences, terms, strict=True)
    ]


def position_prior(n: int) -> npt.NDArray[np.float64]:
    """-ln(1 + position): the lead bias of written documents, z-scored (module doc, step 4)."""
    return _z(-np.log1p(np.arange(n, dtype=np.float64)))


def sentence_scores(
    vectors: FloatArray,
    terms: Sequence[Sequence[str]],
    weights: dict[str, float],
    sections: Sequence[tuple[int, int]],
    lead_weight: float = 0.0,
    *,
    centrality_share: float = CENTRALITY_SHARE,
    length_exponent: float = LENGTH_EXPONENT,
) -> npt.NDArray[np.float64]:
    """`centrality_share` x the z-score of centrality in the section + the rest x the z-score
    of the topic weight (keyness over (terms + 1) ** `length_exponent`), plus `lead_weight`
    times the position prior (module doc, step 4)."""
    n = len(vectors)
    centrality = np.zeros(n, dtype=np.float64)
    for start, end in sections:
        centroid = vectors[start:end].sum(axis=0)
        norm = float(np.linalg.norm(centroid)) or 1.0
        centrality[start:end] = vectors[start:end] @ (centroid / norm)
    topic = np.array(
        [
            sum(weights.get(t, 0.0) for t in set(words)) / (len(set(words)) + 1) ** length_exponent
            for words in terms
        ],
        dtype=np.float64,
    )
    scores: npt.NDArray[np.float64] = centrality_share * _z(centrality) + (
        1.0 - centrality_share
    ) * _z(topic)
    if lead_weight:
        scores = scores + lead_weight * position_prior(n)
    return scores


# --- 5-6. selection ------------------------------------------------------------------------------


def summary_length(n_sentences: int) -> int:
    """Lines in the whole-lecture summary: round(sqrt(n)) within [3, 15], at most n."""
    if n_sentences <= 0:
        return 0
    return min(n_sentences, max(MIN_SUMMARY, min(MAX_SUMMARY, round(math.sqrt(n_sentences)))))


def _section_lines(length: int) -> int:
    return 1 if length < 20 else 2 if length < 60 else 3


def _line(
    index: int, sentences: Sequence[NoteSentence], terms: Sequence[set[str]], score: float
) -> SummaryLine:
    """The sentence, with its question before it or its answer after it (module doc, step 6):
    a question and an answer about the same thing (a term in common), said close together. A
    question to the room ("화면 잘 보이세요?") shares no term with what follows and stays out."""

    def pair(question: int, answer: int) -> bool:
        return (
            sentences[question].question
            and not sentences[answer].question
            and sentences[answer].start_ms - sentences[question].end_ms <= QA_GAP_MS
            and bool(terms[question] & terms[answer])
        )

    if index + 1 < len(sentences) and pair(index, index + 1):
        return SummaryLine((index, index + 1), score)
    if index > 0 and pair(index - 1, index):
        return SummaryLine((index - 1, index), score)
    return SummaryLine((index,), score)


def select_summary(
    scores: npt.NDArray[np.float64],
    eligible: Sequence[bool],
    vectors: FloatArray,
    terms: Sequence[Sequence[str]],
    sections: Sequence[tuple[int, int]],
    n: int,
    sentences: Sequence[NoteSentence] | None = None,
) -> list[SummaryLine]:
    """Up to `n` lines with coverage of the sections and no two saying the same (module doc,
    step 5), in lecture order."""
    total = len(scores)
    n = min(n, total)
    if n <= 0:
        return []
    term_sets = [set(t) for t in terms]
    chosen: list[int] = []
    covered: set[int] = set()  # sentence indices already in a line

    def redundant(index: int) -> bool:
        for other in chosen:
            union = term_sets[index] | term_sets[other]
            if union and len(term_sets[index] & term_sets[other]) / len(union) >= DUPLICATE_TERMS:
                return True
            if float(vectors[index] @ vectors[other]) >= DUPLICATE_COSINE:
                return True
        return False

    def take(index: int) -> bool:
        if index in covered or not eligible[index] or redundant(index):
            return False
        if any(abs(index - other) <= 1 for other in chosen):  # one thought, said on
            return False
        chosen.append(index)
        covered.add(index)
        return True

    per_section = math.ceil(n / max(len(sections), 1)) + 1
    ranked_in = [
        sorted(range(start, end), key=lambda i: (-float(scores[i]), i)) for start, end in sections
    ]
    by_length = sorted(range(len(sections)), key=lambda s: -(sections[s][1] - sections[s][0]))
    for section in by_length:  # coverage first: every section's best line
        if len(chosen) == n:
            break
        for index in ranked_in[section]:
            if take(index):
                break
    section_of = np.zeros(total, dtype=np.int64)
    for number, (start, end) in enumerate(sections):
        section_of[start:end] = number
    for index in sorted(range(total), key=lambda i: (-float(scores[i]), i)):
        if len(chosen) == n:
            break
        if sum(1 for c in chosen if section_of[c] == section_of[index]) >= per_section:
            continue
        take(index)
    if sentences is None:
        return [SummaryLine((i,), float(scores[i])) for i in sorted(chosen)]
    lines = [_line(i, sentences, term_sets, float(scores[i])) for i in sorted(chosen)]
    unique: list[SummaryLine] = []
    for line in lines:  # a question chosen with its answer chosen too: one line
        if unique and set(unique[-1].sentences) & set(line.sentences):
            merged = tuple(sorted(set(unique[-1].sentences) | set(line.sentences)))
            unique[-1] = SummaryLine(merged, max(unique[-1].score, line.score))
        else:
            unique.append(line)
    return unique


# --- the pipeline --------------------------------------------------------------------------------


def _section_terms(
    terms: Sequence[Sequence[str]],
    weights: dict[str, float],
    sections: Sequence[tuple[int, int]],
    top: int = 3,
) -> list[tuple[str, ...]]:
    """Each section's title terms: count in the section x keyness x how specific to the section
    (ln(sections / sections naming it) + 0.25: a term of every section is the lecture's topic,
    not the section's, and comes last unless the lecture has one section)."""
    counts = [
        _count(term for words in terms[start:end] for term in words) for start, end in sections
    ]
    spread = _count(term for section in counts for term in section)
    result: list[tuple[str, ...]] = []
    for section in counts:
        ranked = sorted(
            section,
            key=lambda t: (
                -section[t] * weights.get(t, 0.0) * (math.log(len(counts) / spread[t]) + 0.25),
                t,
            ),
        )
        result.append(tuple(t for t in ranked if weights.get(t, 0.0) > 0)[:top])
    return result


def _count(items: object) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:  # type: ignore[attr-defined]
        counts[item] = counts.get(item, 0) + 1
    return counts


def _sentence_terms(
    sentences: Sequence[NoteSentence], mentions: Sequence[Sequence[Mention]]
) -> list[list[str]]:
    """The terms of each sentence: the mentions (found per caption) whose span lies in one of
    the sentence's caption pieces."""
    by_seq: dict[int, list[Mention]] = {}
    for sentence_mentions in mentions:
        for mention in sentence_mentions:
            by_seq.setdefault(mention.seq, []).append(mention)
    result: list[list[str]] = []
    for sentence in sentences:
        found: list[str] = []
        for span in sentence.spans:
            found += [
                m.term
                for m in by_seq.get(span.seq, [])
                if m.start >= span.start and m.end <= span.end
            ]
        result.append(found)
    return result


def lexical_vectors(terms: Sequence[Sequence[str]]) -> FloatArray:
    """Each sentence as an L2-normalised TF-IDF vector of its terms (idf over the lecture's
    sentences): the encoder-free sentence vectors."""
    vocabulary: dict[str, int] = {}
    for words in terms:
        for term in words:
            vocabulary.setdefault(term, len(vocabulary))
    matrix = np.zeros((len(terms), max(len(vocabulary), 1)), dtype=np.float32)
    document_frequency = np.zeros(max(len(vocabulary), 1), dtype=np.float32)
    for row, words in enumerate(terms):
        for term, count in _count(words).items():
            matrix[row, vocabulary[term]] = 1.0 + math.log(count)
        for term in set(words):
            document_frequency[vocabulary[term]] += 1
    matrix *= np.log((len(terms) + 1) / (document_frequency + 1)) + 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: FloatArray = matrix / np.maximum(norms, 1e-9)
    return result


def build_notes(
    captions: Sequence[Caption],
    encode: Encode | None = None,
    *,
    analyzer: str | Analyzer = "kiwi",
    top_keywords: int = 10,
    documents: DocumentFrequencies | None = None,
    max_summary: int | None = None,
) -> LectureNotes:
    """Everything the notes show of one lecture, from its captions (module doc). Without
    `encode`, sentences are compared by their terms (`lexical_vectors`)."""
    engine = get_analyzer(analyzer) if isinstance(analyzer, str) else analyzer
    sentences = caption_sentences(captions)
    if not sentences:
        return LectureNotes([], [], [], [])
    segments = [(c.seq, c.text) for c in captions if c.text.strip()]
    mentions = lecture_mentions(segments, engine)
    return notes_from_sentences(
        sentences,
        mentions,
        encode,
        top_keywords=top_keywords,
        documents=documents,
        max_summary=max_summary,
    )


def summarize_sentences(
    texts: Sequence[str],
    n: int,
    encode: Encode | None = None,
    *,
    analyzer: str | Analyzer = "kiwi",
    lead_weight: float | None = None,
    spoken: bool = False,
    centrality_share: float | None = None,
    length_exponent: float | None = None,
) -> list[SummaryLine]:
    """The summary of a text already split into sentences (evaluation on kobill and pyconkr):
    the same steps 2-6 on sentences without times, scored as a written text (the `*_WRITTEN`
    values) or, with `spoken`, as speech (no position prior); `lead_weight`,
    `centrality_share` and `length_exponent` override either."""
    engine = get_analyzer(analyzer) if isinstance(analyzer, str) else analyzer
    sentences = [
        NoteSentence(text, (Span(i, 0, len(text)),), 0, 0, 0, is_question(text))
        for i, text in enumerate(texts)
    ]
    if not sentences:
        return []
    mentions = lecture_mentions(list(enumerate(texts)), engine)
    return notes_from_sentences(
        sentences,
        mentions,
        encode,
        max_summary=n,
        spoken=spoken,
        lead_weight=lead_weight,
        centrality_share=centrality_share,
        length_exponent=length_exponent,
    ).summary


def notes_from_sentences(
    sentences: Sequence[NoteSentence],
    mentions: Sequence[Sequence[Mention]],
    encode: Encode | None = None,
    *,
    top_keywords: int = 10,
    documents: DocumentFrequencies | None = None,
    max_summary: int | None = None,
    spoken: bool | None = None,
    lead_weight: float | None = None,
    centrality_share: float | None = None,
    length_exponent: float | None = None,
) -> LectureNotes:
    """Steps 2-6 of the module doc on sentences and the nouns found in their captions. Speech
    (`spoken`; by default: sentences with times) is scored with `CENTRALITY_SHARE`,
    `LENGTH_EXPONENT` and no position prior, a written text with the `*_WRITTEN` values; the
    keyword arguments override either."""
    sentences = list(sentences)
    keywords = rank_keywords(mentions, top=top_keywords, documents=documents)
    counts = _count(m.term for sentence in mentions for m in sentence)
    weights = keyness(counts, documents=documents)
    terms = _sentence_terms(sentences, mentions)
    if encode is None:
        vectors = lexical_vectors(terms)
    else:
        vectors = centred(encode([s.text for s in sentences]))
    timed = sentences[-1].end_ms > 0
    minutes = (sentences[-1].end_ms - sentences[0].start_ms) / 60_000 if timed else None
    ranges = find_sections(
        vectors, [s.pause_ms for s in sentences], section_count(len(sentences), minutes)
    )
    if spoken is None:
        spoken = timed
    if lead_weight is None:
        lead_weight = 0.0 if spoken else LEAD_WEIGHT_WRITTEN
    if centrality_share is None:
        centrality_share = CENTRALITY_SHARE if spoken else CENTRALITY_SHARE_WRITTEN
    if length_exponent is None:
        length_exponent = LENGTH_EXPONENT if spoken else LENGTH_EXPONENT_WRITTEN
    scores = sentence_scores(
        vectors,
        terms,
        weights,
        ranges,
        lead_weight,
        centrality_share=centrality_share,
        length_exponent=length_exponent,
    )
    eligible = candidates([s.text for s in sentences], terms)
    if not any(eligible):  # nothing stands alone: take what there is
        eligible = [bool(s.text.strip()) for s in sentences]
    n = summary_length(len(sentences)) if max_summary is None else max_summary
    summary = select_summary(scores, eligible, vectors, terms, ranges, n, sentences)
    titles = _section_terms(terms, weights, ranges)
    sections: list[NoteSection] = []
    for (start, end), title_terms in zip(ranges, titles, strict=True):
        lines = select_summary(
            scores[start:end],
            eligible[start:end],
            vectors[start:end],
            terms[start:end],
            [(0, end - start)],
            _section_lines(end - start),
            sentences[start:end],
        )
        shifted = tuple(
            SummaryLine(tuple(i + start for i in line.sentences), line.score) for line in lines
        )
        sections.append(
            NoteSection(
                start,
                end,
                sentences[start].start_ms,
                sentences[end - 1].end_ms,
                " · ".join(title_terms),
                title_terms,
                shifted,
            )
        )
    return LectureNotes(sentences, sections, summary, keywords, [float(s) for s in scores], counts)
