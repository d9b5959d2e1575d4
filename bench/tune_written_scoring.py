"""Learn the notes pipeline's scoring of written Korean (text without times) on a development set.

    .venv/bin/python bench/tune_written_scoring.py --dev var/sci-news-sum-kr-50

The development set is sci-news-sum-kr-50 (github.com/theeluwin/sci-news-sum-kr-50 at aca0583:
50 Korean news articles with the sentences two people tagged as the summary; a local copy, never
committed: its README asks for non-commercial experiments only). Each article is summarised with
as many sentences as were tagged, by the notes pipeline (`ml.lecture_notes.summarize_sentences`)
at each point of a grid of the three written-text parameters: the centrality share
(`CENTRALITY_SHARE_WRITTEN`), the length exponent of the topic score
(`LENGTH_EXPONENT_WRITTEN`) and the position-prior weight (`LEAD_WEIGHT_WRITTEN`), and scored
with morpheme ROUGE against the tagged sentences. The point is chosen on articles 01-25 by the
mean of ROUGE-1, -2 and -L F1 and checked on articles 26-50; the test sets (kobill, pyconkr)
are never read here. Speech is not affected: it keeps its own weights and no position prior.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/tune_written_scoring.py`
    sys.path.insert(0, str(ROOT))

from ml.lecture_notes import summarize_sentences  # noqa: E402
from ml.rouge import morphemes, rouge_l, rouge_n  # noqa: E402
from ml.summary_data import SummaryDocument, load_scinews  # noqa: E402
from ml.summary_training import textrankr_method  # noqa: E402

CENTRALITY_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
LENGTH_EXPONENTS = (0.0, 0.25, 0.5)
LEAD_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


Pick = Callable[[SummaryDocument, int], list[int]]


def scores(documents: list[SummaryDocument], pick: Pick) -> tuple[float, float, float]:
    """Mean ROUGE-1, -2, -L F1 (%) of `pick`'s sentences against each document's reference."""
    totals = [0.0, 0.0, 0.0]
    for doc in documents:
        k = max(1, int(sum(doc.labels)))
        chosen = sorted(set(pick(doc, k)))
        candidate = [t for i in chosen for t in morphemes(doc.sentences[i])]
        reference = morphemes(doc.reference)
        totals[0] += rouge_n(candidate, reference, 1).f1
        totals[1] += rouge_n(candidate, reference, 2).f1
        totals[2] += rouge_l(candidate, reference).f1
    return (
        100 * totals[0] / len(documents),
        100 * totals[1] / len(documents),
        100 * totals[2] / len(documents),
    )


def _cells(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", type=Path, default=ROOT / "var" / "sci-news-sum-kr-50")
    args = parser.parse_args()
    documents = load_scinews(args.dev)
    tune, check = documents[:25], documents[25:]
    print("| centrality share | length exponent | lead weight | 01-25 R-1 / R-2 / R-L | 26-50 |")
    print("|---:|---:|---:|---|---|")
    rows = []
    grid = itertools.product(CENTRALITY_SHARES, LENGTH_EXPONENTS, LEAD_WEIGHTS)
    for share, exponent, weight in grid:

        def notes(
            doc: SummaryDocument, k: int, s: float = share, e: float = exponent, w: float = weight
        ) -> list[int]:
            lines = summarize_sentences(
                doc.sentences, k, lead_weight=w, centrality_share=s, length_exponent=e
            )
            return [i for line in lines for i in line.sentences]

        a, b = scores(tune, notes), scores(check, notes)
        rows.append(((share, exponent, weight), a, b))
        print(f"| {share} | {exponent} | {weight} | {_cells(a)} | {_cells(b)} |", flush=True)

    def textrankr(doc: SummaryDocument, k: int) -> list[int]:
        return [s.index for s in textrankr_method(doc, np.zeros((0, 0), dtype=np.float32), k)]

    print(f"| textrankr 1.1 | | | {_cells(scores(tune, textrankr))} | ", end="")
    print(f"{_cells(scores(check, textrankr))} |")
    lead_tune = scores(tune, lambda doc, k: list(range(k)))
    lead_check = scores(check, lambda doc, k: list(range(k)))
    print(f"| LEAD-k | | | {_cells(lead_tune)} | {_cells(lead_check)} |")
    best = max(rows, key=lambda r: sum(r[1]))
    (share, exponent, weight), a, b = best
    print(
        f"chosen on articles 01-25: centrality share {share}, length exponent {exponent}, "
        f"lead weight {weight} (mean {sum(a) / 3:.2f}); on 26-50 it scores {sum(b) / 3:.2f}"
    )


if __name__ == "__main__":
    main()
