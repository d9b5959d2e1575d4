"""Learn the notes pipeline's position-prior weight for written Korean on a development set.

    .venv/bin/python bench/tune_lead_prior.py --dev var/sci-news-sum-kr-50

The development set is sci-news-sum-kr-50 (50 Korean news articles with the sentences two people
tagged as the summary; a local copy, never committed: its README asks for non-commercial
experiments only). Each article is summarised with as many sentences as were tagged, by the
notes pipeline (`ml.lecture_notes.summarize_sentences`) at each weight of the grid, and scored
with morpheme ROUGE against the tagged sentences. The weight is chosen on articles 01-25 by the
mean of ROUGE-1, -2 and -L F1 and checked on articles 26-50; the test sets (kobill, pyconkr) are
never read here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/tune_lead_prior.py`
    sys.path.insert(0, str(ROOT))

from ml.lecture_notes import summarize_sentences  # noqa: E402
from ml.rouge import morphemes, rouge_l, rouge_n  # noqa: E402
from ml.summary_data import SummaryDocument, load_scinews  # noqa: E402
from ml.summary_training import textrankr_method  # noqa: E402

GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dev", type=Path, default=ROOT / "var" / "sci-news-sum-kr-50")
    args = parser.parse_args()
    documents = load_scinews(args.dev)
    tune, check = documents[:25], documents[25:]
    print("| weight | tune R-1 / R-2 / R-L | check R-1 / R-2 / R-L |")
    print("|---:|---|---|")
    rows = []
    for weight in GRID:

        def notes(doc: SummaryDocument, k: int, w: float = weight) -> list[int]:
            lines = summarize_sentences(doc.sentences, k, lead_weight=w)
            return [i for line in lines for i in line.sentences]

        a, b = scores(tune, notes), scores(check, notes)
        rows.append((weight, a, b))
        print(
            f"| {weight} | {a[0]:.2f} / {a[1]:.2f} / {a[2]:.2f} | "
            f"{b[0]:.2f} / {b[1]:.2f} / {b[2]:.2f} |"
        )

    def textrankr(doc: SummaryDocument, k: int) -> list[int]:
        return [s.index for s in textrankr_method(doc, np.zeros((0, 0), dtype=np.float32), k)]

    tr_tune, tr_check = scores(tune, textrankr), scores(check, textrankr)
    print(
        f"| textrankr 1.1 | {' / '.join(f'{v:.2f}' for v in tr_tune)} | "
        f"{' / '.join(f'{v:.2f}' for v in tr_check)} |"
    )
    lead_tune = scores(tune, lambda doc, k: list(range(k)))
    lead_check = scores(check, lambda doc, k: list(range(k)))
    print(
        f"| LEAD-k | {' / '.join(f'{v:.2f}' for v in lead_tune)} | "
        f"{' / '.join(f'{v:.2f}' for v in lead_check)} |"
    )
    best = max(rows, key=lambda r: sum(r[1]))
    print(
        f"chosen on articles 01-25: weight {best[0]} (mean {sum(best[1]) / 3:.2f}); "
        f"on 26-50 it scores {sum(best[2]) / 3:.2f}"
    )


if __name__ == "__main__":
    main()
