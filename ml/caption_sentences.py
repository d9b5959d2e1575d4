"""Sentences, not captions: a lecture's timed captions joined and split again into real
sentences, each remembering the captions it came from and its time (step 1 of
`ml.lecture_notes`).

A live caption ends at `.?!` or after some seconds, so speech without punctuation arrives in
fragments. The captions are joined (one space between them) and split again by Kiwi's sentence
splitter (`ml.korean.kiwi_sentence_spans`: it ends a sentence at a final ending, "-습니다",
"-거든요", even without punctuation), in chunks of about `CHUNK_CHARS` characters (the last
sentence of a chunk is split again with the next one, so nothing is cut at a chunk's edge). A
"sentence" longer than `MAX_SENTENCE_CHARS` (a run-on the splitter found no ending in) is cut
at caption boundaries. Each sentence keeps the pieces of captions it came from (`Span`: seq and
character offsets into that caption's text) and its time span (interpolated inside a caption by
character position), and whether it is a question.

Nothing here imports Django.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ml.korean import kiwi_sentence_spans
from ml.subtitles import CaptionFileError, parse_captions

CHUNK_CHARS = 4000
MAX_SENTENCE_CHARS = 300

_QUESTION_END = re.compile(
    r"(?:\?|(?:습니까|입니까|나요|까요|을까|ㄹ까|는가요|인가요|는지요|던가요|[가-힣]냐|니)[.!]?)\s*$"
)


@dataclass(frozen=True)
class Caption:
    seq: int
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Span:
    """`text[start:end]` of the caption `seq`."""

    seq: int
    start: int
    end: int


@dataclass(frozen=True)
class NoteSentence:
    text: str
    spans: tuple[Span, ...]
    start_ms: int
    end_ms: int
    pause_ms: int  # silence before the sentence (0 when it starts inside a caption)
    question: bool

    @property
    def seq(self) -> int:
        return self.spans[0].seq


def read_captions(text: str) -> list[Caption]:
    """A WebVTT, SRT or SBV file's cues as captions (seq from 1), or, for plain text, each
    non-empty line as a caption without times (seq = line number)."""

    try:
        cues = parse_captions(text)
    except CaptionFileError:
        return [
            Caption(number, 0, 0, line)
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    return [Caption(number, c.start_ms, c.end_ms, c.text) for number, c in enumerate(cues, 1)]


def is_question(text: str) -> bool:
    return _QUESTION_END.search(text) is not None


def caption_sentences(captions: Sequence[Caption]) -> list[NoteSentence]:
    """The captions joined and split into sentences (module doc, step 1)."""
    captions = [c for c in captions if c.text.strip()]
    if not captions:
        return []
    starts: list[int] = []
    parts: list[str] = []
    position = 0
    for caption in captions:
        starts.append(position)
        flat = re.sub(r"\s", " ", caption.text)  # same length: offsets stay those of the caption
        parts.append(flat)
        position += len(flat) + 1
    joined = " ".join(parts)
    spans: list[tuple[int, int]] = []
    cursor = 0
    while cursor < len(joined):
        end = min(len(joined), cursor + CHUNK_CHARS)
        if end < len(joined):  # end the chunk at a caption's end
            k = bisect.bisect_right(starts, end) - 1
            end = max(end, starts[k] + len(parts[k]))
        found = [(cursor + a, cursor + b) for a, b in kiwi_sentence_spans(joined[cursor:end])]
        if end < len(joined) and len(found) > 1:
            spans.extend(found[:-1])
            cursor = found[-1][0]
        else:
            spans.extend(found)
            cursor = end
    sentences: list[NoteSentence] = []
    for start, end in spans:
        for a, b in _cut_long(start, end, starts, parts):
            sentence = _sentence(a, b, starts, parts, captions)
            if sentence is not None:
                sentences.append(sentence)
    return sentences


def _cut_long(
    start: int, end: int, starts: Sequence[int], parts: Sequence[str]
) -> list[tuple[int, int]]:
    """A run-on longer than MAX_SENTENCE_CHARS cut at caption boundaries into pieces about that
    long (never inside a caption)."""
    if end - start <= MAX_SENTENCE_CHARS:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    first = bisect.bisect_right(starts, start) - 1
    last = bisect.bisect_right(starts, end - 1) - 1
    for k in range(first, last):
        caption_end = starts[k] + len(parts[k])
        if caption_end - piece_start >= MAX_SENTENCE_CHARS // 2:
            pieces.append((piece_start, caption_end))
            piece_start = starts[k + 1]
    pieces.append((piece_start, end))
    return pieces


def _sentence(
    start: int,
    end: int,
    starts: Sequence[int],
    parts: Sequence[str],
    captions: Sequence[Caption],
) -> NoteSentence | None:
    first = bisect.bisect_right(starts, start) - 1
    last = bisect.bisect_right(starts, max(start, end - 1)) - 1
    spans: list[Span] = []
    texts: list[str] = []
    used: list[int] = []
    for k in range(max(first, 0), last + 1):
        local_start = max(start - starts[k], 0)
        local_end = min(end - starts[k], len(parts[k]))
        piece = captions[k].text[local_start:local_end]
        stripped = piece.strip()
        if not stripped:
            continue
        local_start += len(piece) - len(piece.lstrip())
        spans.append(Span(captions[k].seq, local_start, local_start + len(stripped)))
        texts.append(" ".join(stripped.split()))
        used.append(k)
    if not spans or not any(ch.isalnum() for ch in "".join(texts)):
        return None
    head_k = used[0]
    head, tail = captions[head_k], captions[used[-1]]
    start_ms = _time_at(head, spans[0].start)
    end_ms = max(_time_at(tail, spans[-1].end), start_ms)
    pause_ms = 0
    if spans[0].start == 0 and head_k > 0:
        pause_ms = max(0, head.start_ms - captions[head_k - 1].end_ms)
    text = " ".join(texts)
    return NoteSentence(text, tuple(spans), start_ms, end_ms, pause_ms, is_question(text))


def _time_at(caption: Caption, offset: int) -> int:
    """The time a character of a caption was spoken, assuming an even pace through it."""
    length = max(len(caption.text), 1)
    fraction = min(max(offset / length, 0.0), 1.0)
    return int(caption.start_ms + (caption.end_ms - caption.start_ms) * fraction)
