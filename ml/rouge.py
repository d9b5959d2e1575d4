"""ROUGE for Korean (and English) summaries, on Kiwi morphemes; and the greedy oracle.

`rouge-score`'s default tokenizer keeps only [a-z0-9] and so deletes Hangul: every Korean score
would be 0. Here texts are tokenized by Kiwi (kiwipiepy, the process's one instance from
`ml.korean`) into morphemes: the surface form of each morpheme, lower-cased, punctuation and
symbols dropped (Kiwi tags SF, SP, SS, SE, SO, SW, W_*), Latin words (SL), numbers (SN) and
Hanja (SH) kept. "학습률이" gives 학습, 률, 이; English words stay words.

- ROUGE-N: clipped n-gram overlap; precision over the candidate's n-grams, recall over the
  reference's, F1 their harmonic mean.
- ROUGE-L: the longest common subsequence of the two whole token sequences (rouge-score's
  "rougeL", not the sentence-split "rougeLsum").
Scores are fractions in [0, 1]; an empty candidate or reference scores 0.

`greedy_oracle` is the usual extractive oracle (Nallapati et al. 2017, BertSum): add the sentence
that most raises ROUGE-1 F1 + ROUGE-2 F1 of the selection against the reference, stop when no
sentence raises it or `max_sentences` are chosen.

Nothing here imports Django.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ml.korean import kiwi_tokenize

__all__ = [
    "RougeScore",
    "RougeScores",
    "greedy_oracle",
    "lcs_length",
    "morphemes",
    "rouge",
    "rouge_l",
    "rouge_n",
]

# Kiwi tags that are punctuation or symbols (and W_* for URLs, e-mails, hashtags…).
_DROPPED_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW", "SB"})


@dataclass(frozen=True, slots=True)
class RougeScore:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True, slots=True)
class RougeScores:
    rouge1: RougeScore
    rouge2: RougeScore
    rougeL: RougeScore


def morphemes(text: str) -> list[str]:
    """Kiwi morphemes of `text`: lower-cased surface forms, punctuation and symbols dropped."""
    if not text.strip():
        return []
    tokens = kiwi_tokenize(text)
    return [
        token.form.lower()
        for token in tokens
        if token.tag not in _DROPPED_TAGS and not token.tag.startswith("W_")
    ]


def _score(overlap: int, candidate_total: int, reference_total: int) -> RougeScore:
    if overlap == 0 or candidate_total == 0 or reference_total == 0:
        return RougeScore(0.0, 0.0, 0.0)
    precision = overlap / candidate_total
    recall = overlap / reference_total
    return RougeScore(precision, recall, 2 * precision * recall / (precision + recall))


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(candidate: Sequence[str], reference: Sequence[str], n: int) -> RougeScore:
    """ROUGE-N of two token sequences (clipped n-gram counts)."""
    if n < 1:
        raise ValueError(f"n must be at least 1 (got {n})")
    cand, ref = _ngrams(candidate, n), _ngrams(reference, n)
    overlap = sum((cand & ref).values())
    return _score(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, O(len(a) * len(b)))."""
    if not a or not b:
        return 0
    if len(b) > len(a):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: Sequence[str], reference: Sequence[str]) -> RougeScore:
    """ROUGE-L of two token sequences (LCS of the whole sequences)."""
    return _score(lcs_length(candidate, reference), len(candidate), len(reference))


def rouge(candidate: str, reference: str) -> RougeScores:
    """ROUGE-1, ROUGE-2 and ROUGE-L of a candidate text against a reference, on morphemes."""
    cand, ref = morphemes(candidate), morphemes(reference)
    return RougeScores(rouge_n(cand, ref, 1), rouge_n(cand, ref, 2), rouge_l(cand, ref))


def greedy_oracle(
    sentence_tokens: Sequence[Sequence[str]], reference_tokens: Sequence[str], max_sentences: int
) -> list[int]:
    """Indices (in document order) of the greedy oracle selection: each step adds the sentence
    that most raises ROUGE-1 F1 + ROUGE-2 F1 of the selection; stops when none raises it."""
    selected: list[int] = []
    best = 0.0
    while len(selected) < max_sentences:
        best_index = -1
        for index in range(len(sentence_tokens)):
            if index in selected:
                continue
            tokens = [t for i in sorted([*selected, index]) for t in sentence_tokens[i]]
            gain = rouge_n(tokens, reference_tokens, 1).f1 + rouge_n(tokens, reference_tokens, 2).f1
            if gain > best:
                best, best_index = gain, index
        if best_index < 0:
            break
        selected.append(best_index)
    return sorted(selected)
