"""Transcript accuracy: word error rate and character error rate.

Both compare normalized text (Unicode NFKC, case-folded, punctuation removed, spaces collapsed), so
"Hello, World." and "hello world" count as identical. CER ignores spaces: Korean spacing varies
between writers and a space error is not a reading error.
"""

import unicodedata
from collections.abc import Sequence


def normalize_text(text: str) -> str:
    """Lower-case, punctuation-free, single-spaced form of `text` used by every metric here."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = [
        " " if unicodedata.category(char)[0] in "PSZ" or char.isspace() else char for char in folded
    ]
    return " ".join("".join(kept).split())


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance: substitutions, insertions and deletions all cost 1."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i]
        for j, hyp_item in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_item != hyp_item),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


def _error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return edit_distance(reference, hypothesis) / len(reference)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits needed to turn the hypothesis into the reference, per reference word."""
    return _error_rate(normalize_text(reference).split(), normalize_text(hypothesis).split())


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Character edits (spaces ignored) per reference character."""
    return _error_rate(
        list(normalize_text(reference).replace(" ", "")),
        list(normalize_text(hypothesis).replace(" ", "")),
    )
