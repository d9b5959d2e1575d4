"""Training and evaluation of the summary head (the commands `train_summarizer` and
`evaluate_summarizer` are thin wrappers around these functions).

Training (`train_head`): the encoder is frozen; sentence vectors of the training documents are
computed once and cached under `cache_dir` (`encode_documents`), so reruns only train the head.
Each epoch visits every training document once in a seeded random order; a document longer than
`WINDOW` sentences is cropped to a random 64-sentence window (inference runs on such windows);
the loss is binary cross-entropy of each sentence's logit against its target (0/1 or graded),
AdamW (lr 1e-3 for the LSTM head, 1e-2 for the linear one; weight decay 1e-2), gradients
clipped at 1. After each epoch the validation
loss is computed the way inference scores (whole documents, overlapping windows); the epoch with
the lowest validation loss is kept. Everything is seeded (Python, numpy, torch) and runs on the
CPU with deterministic kernels, so one seed gives one head.

Evaluation (`evaluate_methods`): every method picks `k` sentences (3 by default, as LEAD-3) of
each test document; ROUGE-1/2/L F1 on Kiwi morphemes (`ml.rouge`) against the reference, averaged
over documents, in percent.

Nothing here imports Django.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from ml.encoder import FloatArray, SentenceEncoder
from ml.lecture_notes import summarize_sentences
from ml.rouge import greedy_oracle, morphemes, rouge_l, rouge_n
from ml.summarizer import (
    WINDOW,
    HeadConfig,
    HeadKind,
    SummaryHead,
    SummarySentence,
    lead_summary,
    score_sentences,
    select_sentences,
    textrank_summary,
)
from ml.summary_data import (
    DataUnavailable,
    SummaryDocument,
    load_aclsum,
    load_aihub,
    load_kobill,
    load_pyconkr,
    load_sadedegel,
    load_spoken,
)

__all__ = [
    "DATA_SOURCES",
    "EvaluationRow",
    "TrainingReport",
    "encode_documents",
    "evaluate_methods",
    "load_training_data",
    "markdown_table",
    "text_table",
    "train_head",
]

DATA_SOURCES = ("aclsum", "sadedegel", "aihub")
SADEDEGEL_VALIDATION_EVERY = 6  # every 6th sadedegel document (16 of 96) validates
AIHUB_VALIDATION_EVERY = 10


# --- data ----------------------------------------------------------------------------------------


def load_training_data(
    sources: Sequence[str], cache_dir: Path
) -> tuple[list[SummaryDocument], list[SummaryDocument]]:
    """(train, validation) documents. Sources: "aclsum" (train split; val split validates),
    "sadedegel" (every 6th document validates), "aihub:PATH" (every 10th validates)."""
    train: list[SummaryDocument] = []
    validation: list[SummaryDocument] = []
    wheels = Path(cache_dir) / "wheels"
    for source in sources:
        name, _, argument = source.partition(":")
        if name == "aclsum":
            train += load_aclsum("train", wheels)
            validation += load_aclsum("val", wheels)
        elif name == "sadedegel":
            for i, doc in enumerate(load_sadedegel(wheels)):
                (validation if i % SADEDEGEL_VALIDATION_EVERY == 0 else train).append(doc)
        elif name == "aihub":
            if not argument:
                raise ValueError("aihub needs a path: aihub:/path/to/train.jsonl")
            for i, doc in enumerate(load_aihub(Path(argument))):
                (validation if i % AIHUB_VALIDATION_EVERY == 0 else train).append(doc)
        else:
            raise ValueError(f"unknown data source {source!r}: choose from {DATA_SOURCES}")
    return train, validation


def _encoder_identity(encoder: SentenceEncoder) -> str:
    manifest = encoder.folder / "hearus-manifest.json"
    if manifest.is_file():
        return hashlib.sha256(manifest.read_bytes()).hexdigest()
    return f"{encoder.folder.absolute()}:{(encoder.folder / 'config.json').stat().st_mtime_ns}"


def encode_documents(
    documents: Sequence[SummaryDocument], encoder: SentenceEncoder, cache_dir: Path | None
) -> list[FloatArray]:
    """Each document's sentence vectors; cached in `cache_dir` as one .npz per (encoder, exact
    sentences), so a rerun with the same data and encoder reads them back."""
    digest = hashlib.sha256(f"{_encoder_identity(encoder)}\n{encoder.prefix}\n".encode())
    for doc in documents:
        digest.update(json.dumps([doc.doc_id, doc.sentences], ensure_ascii=False).encode())
    path = Path(cache_dir) / f"vectors-{digest.hexdigest()[:24]}.npz" if cache_dir else None
    if path is not None and path.is_file():
        with np.load(path) as stored:
            vectors, offsets = stored["vectors"], stored["offsets"]
    else:
        sentences = [s for doc in documents for s in doc.sentences]
        vectors = encoder.encode(sentences)
        offsets = np.cumsum([0, *(len(doc.sentences) for doc in documents)])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".tmp.npz")
            np.savez(partial, vectors=vectors, offsets=offsets)
            partial.replace(path)
    return [vectors[offsets[i] : offsets[i + 1]].astype(np.float32) for i in range(len(documents))]


# --- training ------------------------------------------------------------------------------------


@dataclass
class TrainingReport:
    kind: str
    seed: int
    epochs: int
    best_epoch: int
    best_validation_loss: float
    train_documents: int
    validation_documents: int
    parameters: int
    seconds: float
    history: list[tuple[int, float, float]] = field(default_factory=list)  # epoch, train, val


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def _validation_loss(
    head: SummaryHead, vectors: Sequence[FloatArray], documents: Sequence[SummaryDocument]
) -> float:
    head.eval()
    losses = []
    for doc, doc_vectors in zip(documents, vectors, strict=True):
        probabilities = np.clip(score_sentences(head, doc_vectors), 1e-6, 1 - 1e-6)
        labels = np.asarray(doc.labels)
        bce = -(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))
        losses.append(float(bce.mean()))
    return float(np.mean(losses)) if losses else float("nan")


def train_head(
    train: Sequence[SummaryDocument],
    train_vectors: Sequence[FloatArray],
    validation: Sequence[SummaryDocument],
    validation_vectors: Sequence[FloatArray],
    *,
    kind: HeadKind = "lstm",
    epochs: int = 30,
    seed: int = 13,
    hidden: int = 128,
    learning_rate: float | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[SummaryHead, TrainingReport]:
    """Train a head on frozen sentence vectors; return the best epoch's head (eval mode).

    The learning rate defaults to 1e-3 for the LSTM head and 1e-2 for the linear head (385
    weights on unit vectors: at 1e-3 it is still far from converged after 20 epochs)."""
    if not train:
        raise ValueError("no training documents")
    if learning_rate is None:
        learning_rate = 1e-3 if kind == "lstm" else 1e-2
    started = time.perf_counter()
    _seed_everything(seed)
    dim = int(train_vectors[0].shape[1])
    head = SummaryHead(HeadConfig(kind=kind, dim=dim, hidden=hidden))
    optimizer = torch.optim.AdamW(head.parameters(), lr=learning_rate, weight_decay=1e-2)
    loss_function = nn.BCEWithLogitsLoss()
    rng = random.Random(seed)
    best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
    best_loss, best_epoch = float("inf"), 0
    history: list[tuple[int, float, float]] = []
    for epoch in range(1, epochs + 1):
        head.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        total = 0.0
        for index in order:
            doc_vectors, labels = train_vectors[index], train[index].labels
            start = 0
            if len(labels) > WINDOW:
                start = rng.randrange(len(labels) - WINDOW + 1)
            end = min(len(labels), start + WINDOW)
            inputs = torch.from_numpy(doc_vectors[start:end]).unsqueeze(0)
            targets = torch.tensor(labels[start:end], dtype=torch.float32).unsqueeze(0)
            optimizer.zero_grad()
            loss = loss_function(head(inputs), targets)
            loss.backward()
            nn.utils.clip_grad_norm_(head.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
        validation_loss = _validation_loss(head, validation_vectors, validation)
        history.append((epoch, total / len(order), validation_loss))
        if log is not None:
            mean_loss = total / len(order)
            log(f"epoch {epoch:3d}  train {mean_loss:.4f}  validation {validation_loss:.4f}")
        if validation_loss < best_loss or not validation:
            best_loss, best_epoch = validation_loss, epoch
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
    head.load_state_dict(best_state)
    head.eval()
    torch.use_deterministic_algorithms(False)
    report = TrainingReport(
        kind=kind,
        seed=seed,
        epochs=epochs,
        best_epoch=best_epoch,
        best_validation_loss=best_loss,
        train_documents=len(train),
        validation_documents=len(validation),
        parameters=sum(p.numel() for p in head.parameters()),
        seconds=time.perf_counter() - started,
        history=history,
    )
    return head, report


# --- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRow:
    method: str
    rouge1: float  # F1, percent, mean over documents
    rouge2: float
    rougeL: float
    documents: int
    # 95% bootstrap intervals (percent) of the three means: (low, high)
    rouge1_ci: tuple[float, float] = (0.0, 0.0)
    rouge2_ci: tuple[float, float] = (0.0, 0.0)
    rougeL_ci: tuple[float, float] = (0.0, 0.0)
    # Paired with LEAD-k: the share of bootstrap resamples in which this method's mean ROUGE-L
    # is above LEAD's (0.5 = a tie; >= 0.975: better at the 95% level).
    beats_lead: float = 0.0
    # The same, paired with textrankr (the established Korean extractive baseline).
    beats_textrankr: float = 0.0


Method = Callable[[SummaryDocument, FloatArray, int], list[SummarySentence]]
BOOTSTRAP_SAMPLES = 2000
TEXTRANKR = "textrankr 1.1 (Kiwi morphemes)"


def head_method(head: SummaryHead) -> Method:
    """A method that scores with `head` and selects like `Summarizer.summarize`."""

    def method(doc: SummaryDocument, vectors: FloatArray, k: int) -> list[SummarySentence]:
        return select_sentences(doc.sentences, score_sentences(head, vectors), k, vectors=vectors)

    return method


def notes_method(use_vectors: bool) -> Method:
    """The notes pipeline (`ml.lecture_notes`) on a document's sentences: sentences compared by
    their terms, or by the encoder's vectors; a spoken document is scored as speech (no position
    prior, the speech weights), as its timed captions are in the product."""

    def method(doc: SummaryDocument, vectors: FloatArray, k: int) -> list[SummarySentence]:
        encode = (lambda _texts: vectors) if use_vectors else None
        lines = summarize_sentences(doc.sentences, k, encode, spoken=doc.source == "spoken")
        return [
            SummarySentence(i, doc.sentences[i], line.score)
            for line in lines
            for i in line.sentences
        ]

    return method


def textrankr_method(doc: SummaryDocument, _vectors: FloatArray, k: int) -> list[SummarySentence]:
    """textrankr 1.1 (PyPI, MIT): TextRank over bag-of-words Jaccard similarity, here on Kiwi
    morphemes; its picks mapped back to the document's sentences (it re-splits at . ! ? and
    line breaks, so a pick is the sentence that contains it)."""
    from textrankr import TextRank  # type: ignore[import-untyped]

    picks = TextRank(morphemes).summarize("\n".join(doc.sentences), k, verbose=False)
    chosen: list[int] = []
    for pick in picks:
        for i, sentence in enumerate(doc.sentences):
            if pick in sentence and i not in chosen:
                chosen.append(i)
                break
    return [SummarySentence(i, doc.sentences[i], 1.0) for i in sorted(chosen)]


def bootstrap_interval(
    values: npt.NDArray[np.float64], rng: np.random.Generator, samples: npt.NDArray[np.int64]
) -> tuple[float, float]:
    means = values[samples].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def evaluate_methods(
    documents: Sequence[SummaryDocument],
    vectors: Sequence[FloatArray],
    heads: dict[str, SummaryHead],
    *,
    k: int = 3,
    seed: int = 0,
) -> list[EvaluationRow]:
    """ROUGE of LEAD-k, TextRank (encoder cosine), textrankr, the notes pipeline (terms; e5),
    each head, and the greedy oracle (at most k sentences) on documents with references; means
    with 95% bootstrap intervals over documents (`BOOTSTRAP_SAMPLES` resamples, the same
    resamples for every method, so methods are compared pairwise)."""
    methods: dict[str, Method] = {
        f"LEAD-{k}": lambda doc, _v, n: lead_summary(doc.sentences, n),
        "TextRank (e5 cosine)": lambda doc, v, n: textrank_summary(doc.sentences, n, v),
        TEXTRANKR: textrankr_method,
        "notes: terms (default)": notes_method(False),
        "notes: e5 vectors": notes_method(True),
    }
    for name, head in heads.items():
        methods[name] = head_method(head)
    references = [morphemes(doc.reference) for doc in documents]
    sentence_tokens = [[morphemes(s) for s in doc.sentences] for doc in documents]
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(documents), size=(BOOTSTRAP_SAMPLES, len(documents)))
    per_method: dict[str, npt.NDArray[np.float64]] = {}
    for name, method in [*methods.items(), (f"Oracle (greedy, <= {k})", None)]:
        scores = []
        for doc_index, doc in enumerate(documents):
            tokens, reference = sentence_tokens[doc_index], references[doc_index]
            if method is None:
                chosen = greedy_oracle(tokens, reference, k)
            else:
                chosen = sorted({s.index for s in method(doc, vectors[doc_index], k)})
            candidate = [t for i in sorted(chosen) for t in tokens[i]]
            scores.append(
                (
                    rouge_n(candidate, reference, 1).f1,
                    rouge_n(candidate, reference, 2).f1,
                    rouge_l(candidate, reference).f1,
                )
            )
        per_method[name] = np.asarray(scores, dtype=np.float64) * 100
    lead = per_method[f"LEAD-{k}"][:, 2][samples].mean(axis=1)
    textrankr = per_method[TEXTRANKR][:, 2][samples].mean(axis=1)
    rows: list[EvaluationRow] = []
    for name, table in per_method.items():
        mean = table.mean(axis=0)
        resampled = table[:, 2][samples].mean(axis=1)
        wins = (resampled > lead).mean()
        rows.append(
            EvaluationRow(
                name,
                float(mean[0]),
                float(mean[1]),
                float(mean[2]),
                len(documents),
                bootstrap_interval(table[:, 0], rng, samples),
                bootstrap_interval(table[:, 1], rng, samples),
                bootstrap_interval(table[:, 2], rng, samples),
                float(wins),
                float((resampled > textrankr).mean()),
            )
        )
    return rows


def load_evaluation_data(
    name: str, cache_dir: Path, spoken_dir: Path | None = None
) -> list[SummaryDocument]:
    """Test documents with references: "kobill" (Korean bills), "pyconkr" (real spoken Korean
    shipped in `ml/data/pyconkr`), "spoken" (the Dharma talks, from `spoken_dir`) or
    "aclsum-test" (English)."""
    if name == "kobill":
        return load_kobill()
    if name == "spoken":
        if spoken_dir is None:
            raise DataUnavailable("--data spoken needs --spoken-dir (see docs/summarizer-model.md)")
        return load_spoken(spoken_dir)
    if name == "pyconkr":
        return load_pyconkr()
    if name == "aclsum-test":
        return load_aclsum("test", Path(cache_dir) / "wheels")
    raise ValueError(
        f"unknown evaluation data {name!r}: choose kobill, pyconkr, spoken or aclsum-test"
    )


def _cell(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.2f} [{interval[0]:.1f}, {interval[1]:.1f}]"


def markdown_table(rows: Sequence[EvaluationRow]) -> str:
    lines = [
        "| Method | ROUGE-1 | ROUGE-2 | ROUGE-L | P(R-L > LEAD) | P(R-L > textrankr) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.method} | {_cell(r.rouge1, r.rouge1_ci)} | {_cell(r.rouge2, r.rouge2_ci)} | "
        f"{_cell(r.rougeL, r.rougeL_ci)} | {r.beats_lead:.2f} | {r.beats_textrankr:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def text_table(rows: Sequence[EvaluationRow]) -> str:
    width = max(len("method"), *(len(r.method) for r in rows))
    lines = [
        f"{'method':<{width}}  {'R-1':>18}  {'R-2':>18}  {'R-L':>18}  {'>LEAD':>5}  {'>TR':>5}"
    ]
    lines += [
        f"{r.method:<{width}}  {_cell(r.rouge1, r.rouge1_ci):>18}  "
        f"{_cell(r.rouge2, r.rouge2_ci):>18}  {_cell(r.rougeL, r.rougeL_ci):>18}  "
        f"{r.beats_lead:5.2f}  {r.beats_textrankr:5.2f}"
        for r in rows
    ]
    return "\n".join(lines)
