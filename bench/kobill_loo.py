"""Leave-one-out cross-validation of the written-text scoring on kobill: a check, not a tuning.

    .venv/bin/python bench/kobill_loo.py

For each of konlpy's ten bills, the point of the grid of `bench/tune_written_scoring.py`
(centrality share x length exponent x position-prior weight) with the best mean ROUGE-1, -2 and
-L F1 on the other nine bills summarises the tenth (3 sentences, morpheme ROUGE against its
"제안이유"). The ten held-out scores are reported as the LOO mean with a 95% bootstrap interval
over bills (the resamples of `manage.py evaluate_summarizer`, seed 0), beside LEAD-3, and how
often (of the paired resamples) the LOO ROUGE-L mean is above LEAD-3's. Nothing here sets a
default: it asks whether learning the weights on bills themselves would beat LEAD-3 on an
unseen bill.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/kobill_loo.py`
    sys.path.insert(0, str(ROOT))

from bench.tune_written_scoring import (  # noqa: E402
    CENTRALITY_SHARES,
    LEAD_WEIGHTS,
    LENGTH_EXPONENTS,
)
from ml.lecture_notes import summarize_sentences  # noqa: E402
from ml.rouge import morphemes, rouge_l, rouge_n  # noqa: E402
from ml.summary_data import load_kobill  # noqa: E402
from ml.summary_training import BOOTSTRAP_SAMPLES  # noqa: E402

K = 3
Table = npt.NDArray[np.float64]


def rouge_rows(
    chosen: list[list[int]], tokens: list[list[list[str]]], refs: list[list[str]]
) -> Table:
    rows = []
    for picks, sentence_tokens, reference in zip(chosen, tokens, refs, strict=True):
        candidate = [t for i in sorted(set(picks)) for t in sentence_tokens[i]]
        rows.append(
            (
                rouge_n(candidate, reference, 1).f1,
                rouge_n(candidate, reference, 2).f1,
                rouge_l(candidate, reference).f1,
            )
        )
    return np.asarray(rows, dtype=np.float64) * 100


def main() -> None:
    bills = load_kobill()
    tokens = [[morphemes(s) for s in bill.sentences] for bill in bills]
    refs = [morphemes(bill.reference) for bill in bills]
    grid = list(itertools.product(CENTRALITY_SHARES, LENGTH_EXPONENTS, LEAD_WEIGHTS))
    tables: dict[tuple[float, float, float], Table] = {}
    for share, exponent, weight in grid:
        chosen = [
            [
                i
                for line in summarize_sentences(
                    bill.sentences,
                    K,
                    lead_weight=weight,
                    centrality_share=share,
                    length_exponent=exponent,
                )
                for i in line.sentences
            ]
            for bill in bills
        ]
        tables[(share, exponent, weight)] = rouge_rows(chosen, tokens, refs)
    held_out, picked = [], []
    for i in range(len(bills)):
        best = max(grid, key=lambda point: float(np.delete(tables[point], i, 0).mean()))
        picked.append(best)
        held_out.append(tables[best][i])
    loo = np.asarray(held_out)
    lead = rouge_rows([list(range(K)) for _ in bills], tokens, refs)
    rng = np.random.default_rng(0)
    samples = rng.integers(0, len(bills), size=(BOOTSTRAP_SAMPLES, len(bills)))

    def cell(table: Table, column: int) -> str:
        low, high = np.percentile(table[:, column][samples].mean(axis=1), [2.5, 97.5])
        return f"{table[:, column].mean():.2f} [{low:.1f}, {high:.1f}]"

    print("points chosen on the other nine bills (centrality share, length exponent, lead):")
    for bill, point in zip(bills, picked, strict=True):
        print(f"  {bill.doc_id}: {point}")
    print("| method | ROUGE-1 | ROUGE-2 | ROUGE-L | P(R-L > LEAD-3) |")
    print("|---|---:|---:|---:|---:|")
    beats = (loo[:, 2][samples].mean(axis=1) > lead[:, 2][samples].mean(axis=1)).mean()
    print(f"| LEAD-3 | {cell(lead, 0)} | {cell(lead, 1)} | {cell(lead, 2)} | — |")
    print(
        f"| notes, LOO weights | {cell(loo, 0)} | {cell(loo, 1)} | {cell(loo, 2)} | {beats:.2f} |"
    )


if __name__ == "__main__":
    main()
