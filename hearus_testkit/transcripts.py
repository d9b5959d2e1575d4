"""Comparing what a broadcast under a fault stored with what the same audio gave without one:
words lost (outside the fault's window and inside it), words added, runs of words heard twice."""

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[\w']+")


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


@dataclass(frozen=True)
class TimedWord:
    word: str
    at_s: float  # where it was said in the broadcast audio (estimated inside its caption)


def timed_words(captions: Sequence[tuple[int, int, str]], offset_ms: int) -> list[TimedWord]:
    """The words of captions (start_ms, end_ms, text on the lecture's time line), each placed
    in the broadcast audio whose first sample lies at `offset_ms`: spread over its caption's
    span by character position (captions carry no word times)."""
    found: list[TimedWord] = []
    for start_ms, end_ms, text in captions:
        matches = list(_WORD.finditer(text))
        for match in matches:
            share = match.start() / max(1, len(text))
            at_ms = start_ms + share * (end_ms - start_ms) - offset_ms
            found.append(TimedWord(match.group().lower(), at_ms / 1000))
    return found


@dataclass(frozen=True)
class Comparison:
    reference_words: int
    # Reference words the faulty run does not have and heard nothing in their place, as runs of
    # consecutive words: a fault loses whole stretches; recognition drops a word here and there.
    lost_runs: list[list[TimedWord]]
    substituted: int  # words recognised differently (heard, other words): not lost
    added: list[str]  # words the faulty run has beyond the reference's
    repeated_runs: list[tuple[str, str, str]]  # 3-word runs found more often than in the reference
    windows: list[tuple[float, float]]

    @property
    def lost(self) -> list[TimedWord]:
        return [word for run in self.lost_runs for word in run]

    def outside(self, run: list[TimedWord]) -> bool:
        return not all(
            any(start <= word.at_s <= end for start, end in self.windows) for word in run
        )

    @property
    def lost_outside(self) -> list[TimedWord]:
        return [word for run in self.lost_runs if self.outside(run) for word in run]

    def lost_runs_outside(self, min_words: int) -> list[list[TimedWord]]:
        return [run for run in self.lost_runs if len(run) >= min_words and self.outside(run)]

    def summary(self) -> str:
        return (
            f"{len(self.lost)} of {self.reference_words} words lost "
            f"({len(self.lost_outside)} outside the fault's window), {self.substituted} "
            f"recognised differently, {len(self.added)} added, "
            f"{len(self.repeated_runs)} 3-word runs repeated"
        )


def compare(
    reference: Sequence[TimedWord],
    faulty: Sequence[str],
    windows: Sequence[tuple[float, float]],
) -> Comparison:
    """`reference`: the no-fault run's words; `faulty`: the faulty run's, in order; `windows`:
    (from_s, to_s) spans of the audio around the fault where recognition may differ."""
    expected = [word.word for word in reference]
    matcher = difflib.SequenceMatcher(None, expected, list(faulty), autojunk=False)
    lost_runs: list[list[TimedWord]] = []
    substituted = 0
    added: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            lost_runs.append(list(reference[i1:i2]))
        elif tag == "replace":
            substituted += min(i2 - i1, j2 - j1)
            if i2 - i1 > j2 - j1:
                lost_runs.append(list(reference[i1 + (j2 - j1) : i2]))
            added += faulty[j1 + (i2 - i1) : j2]
        elif tag == "insert":
            added += faulty[j1:j2]
    runs_before = Counter(zip(expected, expected[1:], expected[2:], strict=False))
    runs_after = Counter(zip(faulty, faulty[1:], faulty[2:], strict=False))
    repeated = sorted(run for run, count in runs_after.items() if count > max(1, runs_before[run]))
    return Comparison(
        reference_words=len(expected),
        lost_runs=lost_runs,
        substituted=substituted,
        added=added,
        repeated_runs=repeated,
        windows=list(windows),
    )
