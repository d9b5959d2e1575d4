"""How well sections find topic shifts: distinct talks laid end to end, with a known boundary
where each talk ends, and the share of those boundaries that a sectioning finds nearby.

Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ml.caption_sentences import Caption

__all__ = ["BoundaryScore", "boundary_score", "laid_end_to_end"]


def laid_end_to_end(
    talks: Sequence[Sequence[Caption]], gap_ms: int = 2_000
) -> tuple[list[Caption], list[int]]:
    """The talks' captions as one lecture (seq renumbered, times shifted so each talk starts
    `gap_ms` after the previous one ends: an ordinary pause, so the pause hint does not give a
    boundary away) and the index of each talk's first caption after the first talk."""
    captions: list[Caption] = []
    starts: list[int] = []
    offset = 0
    for number, talk in enumerate(talks):
        if not talk:
            continue
        if number and captions:
            starts.append(len(captions))
        first = talk[0].start_ms
        for caption in talk:
            captions.append(
                Caption(
                    len(captions) + 1,
                    caption.start_ms - first + offset,
                    caption.end_ms - first + offset,
                    caption.text,
                )
            )
        offset = captions[-1].end_ms + gap_ms
    return captions, starts


@dataclass(frozen=True)
class BoundaryScore:
    true_boundaries: int
    found_boundaries: int
    hits: int  # true boundaries with a found boundary within the tolerance
    near_true: int  # found boundaries within the tolerance of a true one

    @property
    def recall(self) -> float:
        return self.hits / self.true_boundaries if self.true_boundaries else 0.0

    @property
    def precision(self) -> float:
        """Share of found boundaries near a true one (a lecture's sections are finer than
        whole talks, so this is low by design; reported, not optimised)."""
        return self.near_true / self.found_boundaries if self.found_boundaries else 0.0


def boundary_score(found: Sequence[int], true: Sequence[int], tolerance: int) -> BoundaryScore:
    """How many `true` boundaries (sentence indices where a new part starts) have a `found`
    boundary within `tolerance` sentences; each found boundary counts for one true one at most."""
    unused = sorted(found)
    hits = 0
    for boundary in sorted(true):
        near = [f for f in unused if abs(f - boundary) <= tolerance]
        if near:
            hits += 1
            unused.remove(min(near, key=lambda f: abs(f - boundary)))
    near_true = sum(1 for f in found if any(abs(f - t) <= tolerance for t in true))
    return BoundaryScore(len(true), len(found), hits, near_true)
