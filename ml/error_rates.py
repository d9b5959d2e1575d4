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


def deleted_words(reference: str, hypothesis: str) -> int:
    """Reference words with nothing in the hypothesis at their place: the deletions of a
    minimum-edit alignment (a misheard word is a substitution, not a deletion). Speech that no
    caption carries shows up here, not only in the error rate."""
    ref = normalize_text(reference).split()
    hyp = normalize_text(hypothesis).split()
    # cost[i][j]: edits between ref[:i] and hyp[:j]; walked back from the end to count deletions
    cost = [list(range(len(hyp) + 1))]
    for i, ref_word in enumerate(ref, start=1):
        row = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            row.append(
                min(
                    cost[i - 1][j] + 1,
                    row[j - 1] + 1,
                    cost[i - 1][j - 1] + (ref_word != hyp_word),
                )
            )
        cost.append(row)
    deletions = 0
    i, j = len(ref), len(hyp)
    while i > 0:
        if j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            i, j = i - 1, j - 1  # a match or a substitution comes first on a tie
        elif cost[i][j] == cost[i - 1][j] + 1:
            deletions += 1
            i -= 1
        else:
            j -= 1
    return deletions
