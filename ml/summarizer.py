"""Extractive lecture summaries: sentence vectors -> BiLSTM (BertSum-style) -> scores -> selection.

1. **Sentence vectors.** Every sentence is encoded on its own by the encoder of `ml.encoder`
   (multilingual-e5-small by default: "passage: " prefix, mean pooling, L2 norm). The lecture is
   never one encoder input, so a 90-minute lecture (about 1,200 sentences, 30,000 tokens) is not
   cut at BERT's 512 tokens; only a single sentence longer than 128 tokens is truncated.
2. **Head.** `SummaryHead` scores each sentence in context: a one-layer bidirectional LSTM runs
   over the sequence of sentence vectors, and a linear layer scores [vector; LSTM state] (the
   vector itself is kept beside the context, so the LSTM head can do at least what the linear
   head does). The "linear" head is the comparison: the linear layer over the vector alone.
3. **Windows.** The LSTM runs over windows of `WINDOW` = 64 sentences that overlap by half
   (stride 32); a sentence's score is the mean of its scores in the windows that hold it. Why
   not the whole lecture at once: the head is trained on documents of 20-150 sentences, cropped
   to 64-sentence windows, and an LSTM run 1,200 steps far beyond the lengths it was trained on
   drifts; 64 sentences (about five minutes of lecture) is also the context that matters for
   "is this sentence central here". Cost is the same either way (milliseconds).
4. **Selection.** Sentences are taken best score first; a candidate is skipped when at least
   half of its Kiwi-morpheme trigrams already occur in the chosen sentences (BertSum's trigram
   blocking, softened for speech, which repeats short phrases such as "하 ㅂ니다 ." often), or
   when it is a near-duplicate by its vector (cosine >= 0.97). The result is in lecture order.
5. **Length.** `summary_length(n)` = round(sqrt(n)) clamped to [3, 15], and never more than n:
   about 5 sentences for a 30-sentence talk, 10 for 100, and the cap of 15 from 225 sentences
   (a 90-minute lecture gets 15: a page to read, not a transcript).

Baselines scored by the same code path (`lead_summary`, `textrank_summary`) sit here too.

Nothing here imports Django.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from ml.encoder import FloatArray, SentenceEncoder, get_encoder
from ml.rouge import morphemes

__all__ = [
    "HEAD_KINDS",
    "MAX_SUMMARY_SENTENCES",
    "MIN_SUMMARY_SENTENCES",
    "WINDOW",
    "HeadConfig",
    "Summarizer",
    "SummaryHead",
    "SummarySentence",
    "get_summarizer",
    "lead_summary",
    "load_head",
    "save_head",
    "score_sentences",
    "select_sentences",
    "summary_length",
    "textrank_summary",
]

HeadKind = Literal["lstm", "linear"]
HEAD_KINDS: tuple[HeadKind, ...] = ("lstm", "linear")
MIN_SUMMARY_SENTENCES = 3
MAX_SUMMARY_SENTENCES = 15
WINDOW = 64
STRIDE = 32
TRIGRAM_OVERLAP = 0.5
DUPLICATE_COSINE = 0.97

Tokenize = Callable[[str], list[str]]


@dataclass(frozen=True)
class SummarySentence:
    index: int  # position in the input list
    text: str
    score: float


def summary_length(n_sentences: int) -> int:
    """How many sentences a summary of `n_sentences` gets: round(sqrt(n)) within [3, 15], at
    most n (0 for nothing)."""
    if n_sentences <= 0:
        return 0
    wanted = min(MAX_SUMMARY_SENTENCES, max(MIN_SUMMARY_SENTENCES, round(math.sqrt(n_sentences))))
    return min(n_sentences, wanted)


# --- the head ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadConfig:
    kind: HeadKind = "lstm"
    dim: int = 384  # the encoder's vector size
    hidden: int = 128  # LSTM units per direction
    dropout: float = 0.2


class SummaryHead(nn.Module):
    """Scores (logits) for a batch of sentence-vector sequences: (batch, length, dim) -> (batch,
    length)."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        if config.kind not in HEAD_KINDS:
            raise ValueError(f"unknown head kind {config.kind!r}: choose one of {HEAD_KINDS}")
        self.config = config
        self.dropout = nn.Dropout(config.dropout)
        self.lstm: nn.LSTM | None = None
        features = config.dim
        if config.kind == "lstm":
            self.lstm = nn.LSTM(config.dim, config.hidden, batch_first=True, bidirectional=True)
            features += 2 * config.hidden
        self.scorer = nn.Linear(features, 1)

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        features = vectors
        if self.lstm is not None:
            context, _ = self.lstm(self.dropout(vectors))
            features = torch.cat([vectors, context], dim=-1)
        logits: torch.Tensor = self.scorer(self.dropout(features)).squeeze(-1)
        return logits


def save_head(head: SummaryHead, path: Path, metadata: dict[str, str] | None = None) -> None:
    """The head's weights as safetensors, its config (and any notes) in the file's metadata."""
    from safetensors.torch import save_file

    config = head.config
    meta = {
        "kind": config.kind,
        "dim": str(config.dim),
        "hidden": str(config.hidden),
        "dropout": str(config.dropout),
        **(metadata or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.detach().contiguous() for name, value in head.state_dict().items()}
    save_file(tensors, str(path), metadata=meta)
    path.chmod(0o644)  # safetensors writes 0600


def load_head(path: Path) -> tuple[SummaryHead, dict[str, str]]:
    """A head saved by `save_head`, in eval mode, and its metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"summary head not found: {path}")
    with safe_open(str(path), framework="pt") as handle:
        meta: dict[str, str] = dict(handle.metadata() or {})
    kind = meta.get("kind", "lstm")
    if kind not in HEAD_KINDS:
        raise ValueError(f"{path}: unknown head kind {kind!r}")
    config = HeadConfig(
        kind="lstm" if kind == "lstm" else "linear",
        dim=int(meta.get("dim", 384)),
        hidden=int(meta.get("hidden", 128)),
        dropout=float(meta.get("dropout", 0.2)),
    )
    head = SummaryHead(config)
    head.load_state_dict(load_file(str(path)))
    head.eval()
    return head, meta


def _windows(n: int, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """[start, end) windows covering 0..n, each `window` long (the last one ends at n)."""
    if n <= window:
        return [(0, n)]
    starts = list(range(0, n - window + 1, stride))
    if starts[-1] + window < n:
        starts.append(n - window)
    return [(s, s + window) for s in starts]


def score_sentences(head: SummaryHead, vectors: FloatArray) -> npt.NDArray[np.float64]:
    """Probabilities (sigmoid of the logits) for each sentence: windows of 64 sentences, stride
    32, a sentence's score the mean over the windows that hold it."""
    n = len(vectors)
    totals = np.zeros(n, dtype=np.float64)
    counts = np.zeros(n, dtype=np.float64)
    if n == 0:
        return totals
    windows = _windows(n)
    with torch.inference_mode():
        batch = torch.from_numpy(np.stack([vectors[s:e] for s, e in windows]))  # equal lengths
        probabilities = torch.sigmoid(head(batch)).double().numpy()
    for (start, end), row in zip(windows, probabilities, strict=True):
        totals[start:end] += row
        counts[start:end] += 1
    scores: npt.NDArray[np.float64] = totals / counts
    return scores


# --- selection -----------------------------------------------------------------------------------


def _kiwi_morphemes(text: str) -> list[str]:

    return morphemes(text)


def _trigrams(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def select_sentences(
    sentences: Sequence[str],
    scores: Sequence[float] | npt.NDArray[np.float64],
    n: int,
    *,
    vectors: FloatArray | None = None,
    tokenize: Tokenize = _kiwi_morphemes,
) -> list[SummarySentence]:
    """Up to `n` sentences, best score first, skipping redundant ones (half their morpheme
    trigrams already chosen, or cosine >= 0.97 to a chosen vector); returned in document order.
    When blocking leaves fewer than `n`, the best blocked sentences fill the rest."""
    n = min(n, len(sentences))
    if n <= 0:
        return []
    order = sorted(range(len(sentences)), key=lambda i: (-float(scores[i]), i))
    chosen: list[int] = []
    blocked: list[int] = []
    seen: set[tuple[str, ...]] = set()
    for index in order:
        if len(chosen) == n:
            break
        grams = _trigrams(tokenize(sentences[index]))
        repeated = bool(grams) and len(grams & seen) >= TRIGRAM_OVERLAP * len(grams)
        duplicate = vectors is not None and any(
            float(vectors[index] @ vectors[j]) >= DUPLICATE_COSINE for j in chosen
        )
        if repeated or duplicate or not sentences[index].strip():
            blocked.append(index)
            continue
        chosen.append(index)
        seen |= grams
    chosen.extend(blocked[: n - len(chosen)])
    return [SummarySentence(i, sentences[i], float(scores[i])) for i in sorted(chosen)]


# --- baselines -----------------------------------------------------------------------------------


def lead_summary(sentences: Sequence[str], n: int) -> list[SummarySentence]:
    """The first `n` sentences (LEAD-n); scores fall from 1 by position."""
    n = max(0, min(n, len(sentences)))
    return [SummarySentence(i, sentences[i], 1.0 - i / max(n, 1)) for i in range(n)]


def _overlap_similarity(tokens: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
    """TextRank's original similarity: shared words / (log |a| + log |b|)."""
    sets = [set(t) for t in tokens]
    n = len(tokens)
    similarity = np.zeros((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i + 1, n):
            denominator = math.log(len(tokens[i]) + 1) + math.log(len(tokens[j]) + 1)
            if denominator > 0:
                similarity[i, j] = similarity[j, i] = len(sets[i] & sets[j]) / denominator
    return similarity


def textrank_summary(
    sentences: Sequence[str],
    n: int,
    vectors: FloatArray | None = None,
    *,
    tokenize: Tokenize = _kiwi_morphemes,
) -> list[SummarySentence]:
    """TextRank: PageRank (damping 0.85) over a sentence-similarity graph, top `n` in document
    order. With `vectors`, similarity is their cosine minus the mean off-diagonal cosine,
    clipped at 0 (e5's cosines all sit between about 0.7 and 1, so raw cosines make a nearly
    uniform complete graph); without, TextRank's word overlap on Kiwi morphemes."""
    import networkx as nx

    n = max(0, min(n, len(sentences)))
    if n == 0:
        return []
    if len(sentences) == 1:
        return [SummarySentence(0, sentences[0], 1.0)]
    if vectors is not None:
        cosine = (vectors @ vectors.T).astype(np.float64)
        off_diagonal = cosine[~np.eye(len(sentences), dtype=bool)]
        similarity = np.clip(cosine - off_diagonal.mean(), 0.0, None)
    else:
        similarity = _overlap_similarity([tokenize(s) for s in sentences])
    np.fill_diagonal(similarity, 0.0)
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(range(len(sentences)))
    rows, cols = np.nonzero(np.triu(similarity))
    graph.add_weighted_edges_from(
        (int(i), int(j), float(similarity[i, j])) for i, j in zip(rows, cols, strict=True)
    )
    try:
        ranks: dict[int, float] = nx.pagerank(graph, alpha=0.85, weight="weight", max_iter=500)
    except nx.PowerIterationFailedConvergence:  # pragma: no cover - undirected graphs converge
        ranks = {i: float(d) for i, d in graph.degree(weight="weight")}
    top = sorted(range(len(sentences)), key=lambda i: (-ranks[i], i))[:n]
    return [SummarySentence(i, sentences[i], ranks[i]) for i in sorted(top)]


# --- the summarizer ------------------------------------------------------------------------------


class Summarizer:
    """An encoder and a trained head: `summarize(sentences)` gives the summary sentences."""

    def __init__(self, encoder: SentenceEncoder, head: SummaryHead, *, name: str = "") -> None:
        if head.config.dim != encoder.dim:
            raise ValueError(
                f"the head expects {head.config.dim}-dimensional vectors, the encoder at "
                f"{encoder.folder} gives {encoder.dim}: train a head for this encoder"
            )
        self.encoder = encoder
        self.head = head
        self.name = name

    @classmethod
    def load(cls, encoder_dir: Path, head_path: Path) -> Summarizer:
        head, meta = load_head(head_path)
        return cls(get_encoder(encoder_dir), head, name=meta.get("kind", ""))

    def scores(self, vectors: FloatArray) -> npt.NDArray[np.float64]:
        return score_sentences(self.head, vectors)

    def summarize(
        self, sentences: Sequence[str], max_sentences: int | None = None
    ) -> list[SummarySentence]:
        """The summary of a lecture given as its sentences, in lecture order. `max_sentences`
        overrides `summary_length`. [] for no sentences; one sentence gives itself."""
        sentences = list(sentences)
        n = summary_length(len(sentences)) if max_sentences is None else max_sentences
        n = min(max(n, 0), len(sentences))
        if n == 0:
            return []
        vectors = self.encoder.encode(sentences)
        return select_sentences(sentences, self.scores(vectors), n, vectors=vectors)


_summarizers: dict[tuple[Path, Path], Summarizer] = {}
_summarizers_lock = threading.Lock()


def get_summarizer(encoder_dir: Path, head_path: Path) -> Summarizer:
    """The process's summarizer for that encoder and head, loaded once (Celery workers)."""
    key = (Path(encoder_dir).absolute(), Path(head_path).absolute())
    with _summarizers_lock:
        if key not in _summarizers:
            _summarizers[key] = Summarizer.load(*key)
        return _summarizers[key]
