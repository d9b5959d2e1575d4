"""Timed words from Whisper segments, cleaned once for both caption paths.

`clean_segments` is the one place where a decode's segments become the words a caption may use,
for the live path (`ml.streaming`) and for whole recordings (`ml.offline`) alike:

1. in-word loops are cut ("인공인공인공" -> "인공") and empty words removed;
2. a segment that Whisper's own signals call unreliable (`caption_filters.unreliable_reason`:
   compression ratio, average log-probability, no-speech probability) is dropped whole;
3. inside each segment, repetition loops are cut (`caption_filters.repetition_keep_mask`), then
   known hallucination lines are cut from each sentence (whole sentences, or their beginning or
   end: `caption_filters.hallucinated_ends`) and sentences that copy the vocabulary prompt are
   dropped;
4. across segments, and across the `memory` of words already emitted before them, loops are cut
   again (a segment that repeats the previous ones over and over is a loop too).

What was dropped comes back beside what was kept, with the reason, so callers can count it.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ml.asr import TranscribedSegment, TranscribedWord
from ml.caption_filters import (
    collapse_repeated_characters,
    hallucinated_ends,
    is_prompt_echo,
    repetition_keep_mask,
    squash,
    unreliable_reason,
)

# CJK full-width forms and typographic closing quotes are written as escapes.
SENTENCE_END_CHARS = ".?!\u3002\uff1f\uff01\u2026"
CLAUSE_END_CHARS = ",\uff0c\u3001;\uff1b:"
_CLOSING_CHARS = "\"')]}\u00bb\u201d\u2019"

# Reasons text is dropped (labels of the dropped-text metric).
DROP_UNRELIABLE = "unreliable"
DROP_HALLUCINATION = "hallucination"
DROP_REPETITION = "repetition"
DROP_PROMPT_ECHO = "prompt_echo"
DROP_REASONS = (DROP_UNRELIABLE, DROP_HALLUCINATION, DROP_REPETITION, DROP_PROMPT_ECHO)


@dataclass(frozen=True)
class TimedWord:
    start: float  # seconds from the start of the stream (or recording)
    end: float
    text: str  # Whisper's spelling, leading space included
    # Whisper's probability of the word (1.0 where none is known): how sure it was of hearing it.
    probability: float = field(default=1.0, compare=False)

    @property
    def key(self) -> str:
        return squash(self.text) or self.text.strip()


@dataclass
class CleanWords:
    kept: list[TimedWord] = field(default_factory=list)
    dropped: list[tuple[TimedWord, str]] = field(default_factory=list)  # (word, reason)

    def drop(self, words: Iterable[TimedWord], reason: str) -> None:
        self.dropped += [(word, reason) for word in words]


def join_words(words: Sequence[TimedWord]) -> str:
    """Caption text of words: faster-whisper words carry their own leading spaces (none for
    Chinese or Japanese)."""
    return " ".join("".join(word.text for word in words).split())


def ends_with(word: TimedWord, chars: str) -> bool:
    stripped = word.text.strip().rstrip(_CLOSING_CHARS)
    return bool(stripped) and stripped[-1] in chars


def split_sentences(words: Sequence[TimedWord]) -> list[list[TimedWord]]:
    """Words grouped into sentences (a group ends at a word ending with a sentence end)."""
    sentences: list[list[TimedWord]] = [[]]
    for word in words:
        sentences[-1].append(word)
        if ends_with(word, SENTENCE_END_CHARS):
            sentences.append([])
    return [sentence for sentence in sentences if sentence]


def without_repetitions(
    words: Sequence[TimedWord], *, memory: Sequence[str] = ()
) -> tuple[list[TimedWord], list[TimedWord]]:
    """(kept, dropped): the loop guard over `words`, seeing `memory` (earlier texts) first."""
    mask = repetition_keep_mask([*memory, *(word.text for word in words)])[len(memory) :]
    kept = [word for word, keep in zip(words, mask, strict=True) if keep]
    dropped = [word for word, keep in zip(words, mask, strict=True) if not keep]
    return kept, dropped


def segment_words(segment: TranscribedSegment, *, offset_s: float = 0.0) -> list[TimedWord]:
    """A segment's words on the caller's time line (the segment as one word if it has none)."""
    words = segment.words or (
        TranscribedWord(segment.start, segment.end, segment.text, math.exp(segment.avg_logprob)),
    )
    return [
        TimedWord(
            start=offset_s + word.start,
            end=offset_s + max(word.end, word.start),
            text=collapse_repeated_characters(word.text),
            probability=word.probability,
        )
        for word in words
    ]


def shifted(segment: TranscribedSegment, offset_s: float) -> TranscribedSegment:
    """The segment with its times (and its words' times) moved by `offset_s`."""
    return replace(
        segment,
        start=segment.start + offset_s,
        end=segment.end + offset_s,
        words=tuple(
            replace(word, start=word.start + offset_s, end=word.end + offset_s)
            for word in segment.words
        ),
    )


def clean_segments(
    segments: Iterable[TranscribedSegment],
    *,
    offset_s: float = 0.0,
    memory: Sequence[str] = (),
    prompts: Sequence[str] = (),
) -> CleanWords:
    """The words of a decode's segments (in time order) that may reach a caption, and the
    dropped ones with their reasons (see the module docstring). `prompts`: texts Whisper was
    given (previous captions, the course vocabulary) that it must not hand back as speech."""
    result = CleanWords()
    for segment in segments:
        words = [word for word in segment_words(segment, offset_s=offset_s) if word.text.strip()]
        if not words:
            continue
        reason = unreliable_reason(segment)
        if reason is not None:
            result.drop(words, DROP_UNRELIABLE)
            continue
        words, looped = without_repetitions(words)
        result.drop(looped, DROP_REPETITION)
        for sentence in split_sentences(words):
            start, end = hallucinated_ends([word.text for word in sentence])
            result.drop(sentence[:start] + sentence[end:], DROP_HALLUCINATION)
            sentence = sentence[start:end]
            text = join_words(sentence)
            if not sentence:
                continue
            if any(is_prompt_echo(text, prompt) for prompt in prompts if prompt):
                result.drop(sentence, DROP_PROMPT_ECHO)
            else:
                history = [*memory, *(word.text for word in result.kept)][-_MEMORY_WORDS:]
                kept, looped = without_repetitions(sentence, memory=history)
                result.kept += kept
                result.drop(looped, DROP_REPETITION)
    return result


_MEMORY_WORDS = 24  # words of earlier text the loop guard still sees (3 copies of an 8-gram)


def count_reasons(dropped: Iterable[tuple[TimedWord, str]]) -> Counter[str]:
    return Counter(reason for _, reason in dropped)
