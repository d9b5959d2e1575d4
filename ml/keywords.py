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

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx

from ml.korean import Analyzer, get_analyzer

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
_SCORE_DECIMALS = 6


class Occurrence(NamedTuple):
    """Where a keyword occurs: segment `seq`, and `text[start:end]` of that segment."""

    seq: int
    start: int
    end: int


class Mention(NamedTuple):
    """One noun found in one sentence of one segment."""

    term: str
    seq: int
    start: int
    end: int


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
        for sentence in analyzer.sentences(text):
            sentences.append([Mention(n.text, seq, n.start, n.end) for n in sentence.nouns])
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


def extract_keywords(
    segments: Sequence[tuple[int, str]],
    *,
    analyzer: str | Analyzer = "kiwi",
    top: int = 10,
    window: int = 3,
) -> list[Keyword]:
    """The `top` keywords of a lecture's final captions, given as (seq, text) segments.

    Empty input, or text without nouns, gives []; a single noun gives that noun (score 1.0).
    """
    if top < 1:
        raise ValueError(f"top must be at least 1 (got {top})")
    if window < 2:
        raise ValueError(f"window must be at least 2 (got {window})")
    engine = get_analyzer(analyzer) if isinstance(analyzer, str) else analyzer
    sentences = sentence_mentions(segments, engine)
    graph = cooccurrence_graph(([m.term for m in s] for s in sentences), window=window)
    scores = rank_nouns(graph)
    counts: Counter[str] = Counter()
    occurrences: dict[str, list[Occurrence]] = {}
    for sentence in sentences:
        for mention in sentence:
            counts[mention.term] += 1
            occurrences.setdefault(mention.term, []).append(
                Occurrence(mention.seq, mention.start, mention.end)
            )
    ranked = sorted(scores, key=lambda term: (-scores[term], -counts[term], term))
    return [Keyword(term, scores[term], counts[term], occurrences[term]) for term in ranked[:top]]
