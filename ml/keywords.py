"""Keywords of a lecture: nouns -> windowed co-occurrence graph -> PageRank (TextRank).

1. Each final caption segment is split into sentences and each sentence into nouns (compound nouns
   joined; see `ml.korean`).
2. A co-occurrence graph: inside each sentence, every noun is linked to the nouns that follow it
   within a sliding window of `window` nouns (window=3: the next two). Links never cross a sentence
   boundary. An edge's weight counts how often the two nouns co-occurred. This is deliberately
   NOT a complete graph: if every noun linked every other noun, PageRank would rank them all
   nearly equal.
3. networkx PageRank (damping 0.85, weight="weight") ranks the nouns; scores are divided by the
   top score (so the first keyword scores 1.0) and rounded to 6 decimals (PageRank's own tolerance
   is about 1e-6, so finer differences are noise). Ties are broken by count (more first), then by
   text, so the result is deterministic.

Each keyword carries its occurrences, (segment seq, start, end), as character offsets into that
segment's text, for highlighting.

Nothing here imports Django.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx

from ml.background import (
    DocumentFrequencies,
    combined_idf,
    general_log_probs,
    is_function_like,
)
from ml.korean import Analyzer, Noun, get_analyzer

__all__ = [
    "DAMPING",
    "Keyword",
    "Mention",
    "Occurrence",
    "cooccurrence_graph",
    "extract_keywords",
    "rank_nouns",
    "sentence_mentions",
]

DAMPING = 0.85
# Gluing a compound written with spaces (module doc).
MIN_SPACED_RECURRENCE = 2
MIN_ASSOCIATION = 0.5
GENERIC_LOG_PROB = -8.0  # a head noun the language model expects more than this is generic
VARIANT_SUFFIXES = ("자", "님")
# Captioners' sound descriptions, "(청중 웃음)", "[박수]", "(laughter)": not words of the lecture.
# ...and speaker labels opening a caption, "(질문자)", "[스님]", "(Q)": who speaks, not what.
SOUND_TAG = re.compile(
    r"[\[(\uff08][^\])\uff09]{0,20}?(?:웃음|박수|음악|침묵|소리|laugh\w*|applause|music)"
    r"[^\])\uff09]{0,10}[\])\uff09]"
    r"|^\s*[\[(\uff08][^\s\])\uff09]{1,6}[\])\uff09]",
    re.IGNORECASE,
)
_SCORE_DECIMALS = 6


class Occurrence(NamedTuple):
    """Where a keyword occurs: segment `seq`, and `text[start:end]` of that segment."""

    seq: int
    start: int
    end: int


class Mention(NamedTuple):
    """One noun found in one sentence of one segment (`words`: see `ml.korean.Noun`)."""

    term: str
    seq: int
    start: int
    end: int
    words: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Keyword:
    text: str
    score: float  # PageRank divided by the top keyword's (the first keyword scores 1.0)
    count: int  # occurrences in the transcript
    occurrences: list[Occurrence] = field(default_factory=list)


def sentence_mentions(
    segments: Iterable[tuple[int, str]], analyzer: Analyzer
) -> list[list[Mention]]:
    """The nouns of every sentence of every segment, in order (sentences without nouns kept as
    empty lists)."""
    sentences: list[list[Mention]] = []
    for seq, text in segments:
        text = SOUND_TAG.sub(lambda match: " " * len(match.group()), text)  # offsets kept
        for sentence in analyzer.sentences(text):
            sentences.append(
                [Mention(n.text, seq, n.start, n.end, n.words) for n in sentence.nouns]
            )
    return sentences


def cooccurrence_graph(sentences: Iterable[Sequence[str]], *, window: int = 3) -> nx.Graph[str]:
    """Undirected graph of terms: an edge for each pair at most `window - 1` nouns apart inside
    one sentence, weighted by how often that happens. Every term is a node, even one that never
    co-occurs. A term never links to itself."""
    if window < 2:
        raise ValueError(f"window must be at least 2 (got {window})")
    graph: nx.Graph[str] = nx.Graph()
    for terms in sentences:
        for i, term in enumerate(terms):
            graph.add_node(term)
            for other in terms[i + 1 : i + window]:
                if other == term:
                    continue
                if graph.has_edge(term, other):
                    graph[term][other]["weight"] += 1
                else:
                    graph.add_edge(term, other, weight=1)
    return graph


def rank_nouns(graph: nx.Graph[str]) -> dict[str, float]:
    """PageRank of every node (damping 0.85, edge weights), divided by the top score."""
    if graph.number_of_nodes() == 0:
        return {}
    try:
        ranks: dict[str, float] = nx.pagerank(graph, alpha=DAMPING, weight="weight", max_iter=500)
    except nx.PowerIterationFailedConvergence:  # pragma: no cover - undirected graphs converge
        ranks = {node: float(degree) + 1.0 for node, degree in graph.degree(weight="weight")}
    top = max(ranks.values())
    return {node: round(rank / top, _SCORE_DECIMALS) for node, rank in ranks.items()}


def resolve_compounds(
    sentences: Sequence[Sequence[Noun | Mention]],
) -> list[list[Noun | Mention]]:
    """Decide which compounds written with spaces stay glued (see the module doc): a spaced
    compound is kept as one term when the same term is also written as one word somewhere, or
    when it recurs (`MIN_SPACED_RECURRENCE` times) with its words mostly together
    (`MIN_ASSOCIATION`) and does not end in a generic noun (`GENERIC_LOG_PROB`); otherwise it
    falls apart into its words."""
    words_count: Counter[str] = Counter()
    spaced: Counter[str] = Counter()
    unspaced: set[str] = set()
    candidates: set[str] = set()
    for sentence in sentences:
        for noun in sentence:
            words = getattr(noun, "words", ())
            if words:
                spaced[noun_text(noun)] += 1
                candidates.update(word for word, _, _ in words)
                words_count.update(word for word, _, _ in words)
            else:
                unspaced.add(noun_text(noun))
                words_count[noun_text(noun)] += 1
    heads = general_log_probs(
        {n.words[-1][0] for s in sentences for n in s if getattr(n, "words", ())}
    )
    glued: set[str] = set()
    for sentence in sentences:
        for noun in sentence:
            words = getattr(noun, "words", ())
            term = noun_text(noun)
            if not words or term in glued:
                continue
            rarest = min(words_count[word] for word, _, _ in words)
            if term in unspaced or (
                spaced[term] >= MIN_SPACED_RECURRENCE
                and spaced[term] >= MIN_ASSOCIATION * rarest
                and heads[words[-1][0]] < GENERIC_LOG_PROB
            ):
                glued.add(term)
    resolved: list[list[Noun | Mention]] = []
    for sentence in sentences:
        out: list[Noun | Mention] = []
        for noun in sentence:
            words = getattr(noun, "words", ())
            if not words or noun_text(noun) in glued:
                out.append(noun)
                continue
            for term, start, end in _glued_runs(words, glued):
                if isinstance(noun, Mention):
                    out.append(Mention(term, noun.seq, start, end))
                else:
                    out.append(Noun(term, start, end))
        resolved.append(out)
    return resolved


def _glued_runs(
    words: Sequence[tuple[str, int, int]], glued: set[str]
) -> list[tuple[str, int, int]]:
    """A spaced compound that is not a term itself, cut into its words, keeping together the
    longest runs of words that are a glued term ("기계 학습 모델": 기계학습 + 모델)."""
    result: list[tuple[str, int, int]] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i + 1, -1):
            term = "".join(word for word, _, _ in words[i:j])
            if term in glued:
                result.append((term, words[i][1], words[j - 1][2]))
                i = j
                break
        else:
            result.append(words[i])
            i += 1
    return result


def noun_text(noun: Noun | Mention) -> str:
    return noun.text if isinstance(noun, Noun) else noun.term


def variant_map(terms: Iterable[str]) -> dict[str, str]:
    """Variants that are one term: a term that is another term plus a variant suffix (육아휴직자
    and 육아휴직, 부처님 and 부처) maps to the shorter one (the group is then named by its most
    frequent spelling, `lecture_mentions`). Spaced and glued spellings are one
    term already (`resolve_compounds`)."""
    present = set(terms)
    mapping: dict[str, str] = {}
    for term in present:
        for suffix in VARIANT_SUFFIXES:
            base = term[: -len(suffix)]
            if term.endswith(suffix) and len(base) >= 2 and base in present:
                mapping[term] = base
                break
    return mapping


def keyness(
    counts: Mapping[str, int],
    *,
    documents: DocumentFrequencies | None = None,
) -> dict[str, float]:
    """How much each term is this lecture's topic rather than ordinary Korean: count x max(0,
    ln p_lecture - ln p_background) (the term's share of the lecture's KL divergence from general
    Korean, `ml.background`), times its IDF over formal written Korean and the course's other
    lectures (`documents`). A noun the language model expects everywhere (사람, 경우) has a
    small log-odds even when frequent; a noun of every formal text (이하, 사항) a small IDF; a
    topic (윤회, 육아휴직) neither. Measured against ln(1 + count) and sqrt(count) in place of
    count: those put terms said twice (아쇼카나무) above the lecture's subject."""
    total = sum(counts.values())
    if total == 0:
        return {}
    background = general_log_probs(counts)
    weights: dict[str, float] = {}
    for term, count in counts.items():
        log_odds = math.log(count / total) - background[term]
        if is_function_like(term):
            weights[term] = 0.0
        else:
            weights[term] = count * max(0.0, log_odds) * combined_idf(term, documents)
    return weights


def extract_keywords(
    segments: Sequence[tuple[int, str]],
    *,
    analyzer: str | Analyzer = "kiwi",
    top: int = 10,
    window: int = 3,
    documents: DocumentFrequencies | None = None,
) -> list[Keyword]:
    """The `top` keywords of a lecture's final captions, given as (seq, text) segments.

    Empty input, or text without nouns, gives []; a single noun gives that noun (score 1.0).
    """
    if top < 1:
        raise ValueError(f"top must be at least 1 (got {top})")
    if window < 2:
        raise ValueError(f"window must be at least 2 (got {window})")
    engine = get_analyzer(analyzer) if isinstance(analyzer, str) else analyzer
    sentences = lecture_mentions(segments, engine)
    return rank_keywords(sentences, top=top, window=window, documents=documents)


def lecture_mentions(
    segments: Sequence[tuple[int, str]], analyzer: Analyzer
) -> list[list[Mention]]:
    """Every sentence's nouns with compounds resolved and variants merged (the terms keywords,
    section titles and summaries count)."""
    resolved = resolve_compounds(sentence_mentions(segments, analyzer))
    mentions = [[m for m in sentence if isinstance(m, Mention)] for sentence in resolved]
    said = Counter(m.term for sentence in mentions for m in sentence)
    variants = variant_map(said)
    # A group of variants is named by its most frequent spelling (부처님 over 부처).
    groups: dict[str, list[str]] = {}
    for term in said:
        groups.setdefault(variants.get(term, term), []).append(term)
    names = {
        base: max(members, key=lambda t: (said[t], -len(t), t)) for base, members in groups.items()
    }
    return [[m._replace(term=names[variants.get(m.term, m.term)]) for m in s] for s in mentions]


def rank_keywords(
    sentences: Sequence[Sequence[Mention]],
    *,
    top: int = 10,
    window: int = 3,
    documents: DocumentFrequencies | None = None,
) -> list[Keyword]:
    """Keywords from mentions: keyness against the background, times (1 + PageRank) / 2 so that
    among topical terms those at the centre of the co-occurrence graph come first; normalised
    to the top score. Terms said once rank after all the others."""
    counts: Counter[str] = Counter()
    occurrences: dict[str, list[Occurrence]] = {}
    for sentence in sentences:
        for mention in sentence:
            counts[mention.term] += 1
            occurrences.setdefault(mention.term, []).append(
                Occurrence(mention.seq, mention.start, mention.end)
            )
    if not counts:
        return []
    graph = cooccurrence_graph(([m.term for m in s] for s in sentences), window=window)
    centrality = rank_nouns(graph)
    weights = keyness(counts, documents=documents)
    raw = {term: weights[term] * (1.0 + centrality.get(term, 0.0)) / 2.0 for term in counts}
    best = max(raw.values(), default=0.0)
    if best <= 0.0:  # nothing stands out from the background: fall back to centrality
        raw = {term: centrality.get(term, 0.0) for term in raw}
        best = max(raw.values(), default=0.0) or 1.0
    scores = {term: round(value / best, _SCORE_DECIMALS) for term, value in raw.items()}
    # Terms said once come after every term said more often (a lecture's topics recur).
    ranked = sorted(
        scores, key=lambda term: (counts[term] == 1, -scores[term], -counts[term], term)
    )
    return [Keyword(term, scores[term], counts[term], occurrences[term]) for term in ranked[:top]]
