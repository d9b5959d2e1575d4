"""Sections against known topic shifts: the five PyCon Korea talks of `ml/data/pyconkr` laid end
to end (2 s between talks, an ordinary pause), once in each of five rotations of their order (20
true boundaries), through the notes pipeline (`build_notes`, what `process_lecture` runs). A
true boundary counts as found when a section starts within +-N sentences of the first sentence
of the next talk.

    .venv/bin/python bench/section_boundaries.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/section_boundaries.py`
    sys.path.insert(0, str(ROOT))

from ml.lecture_notes import Caption, build_notes  # noqa: E402
from ml.section_eval import boundary_score, laid_end_to_end  # noqa: E402
from ml.subtitles import parse_captions  # noqa: E402

DATA = ROOT / "ml" / "data" / "pyconkr"
TOLERANCES = (2, 5, 10)


def talks() -> list[list[Caption]]:
    result = []
    for path in sorted(DATA.glob("*.srt")):
        cues = parse_captions(path.read_text(encoding="utf-8"))
        result.append([Caption(i, c.start_ms, c.end_ms, c.text) for i, c in enumerate(cues, 1)])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    all_talks = talks()
    totals = {t: [0, 0, 0, 0] for t in TOLERANCES}  # true, found, hits, near
    runs = []
    started = time.perf_counter()
    for rotation in range(len(all_talks)):
        order = all_talks[rotation:] + all_talks[:rotation]
        captions, caption_starts = laid_end_to_end(order)
        notes = build_notes(captions)
        # The sentence where each talk starts: the first sentence holding that caption.
        first_sentence: dict[int, int] = {}
        for index, sentence in enumerate(notes.sentences):
            for span in sentence.spans:
                first_sentence.setdefault(span.seq, index)
        true = [first_sentence[captions[i].seq] for i in caption_starts]
        found = [section.start for section in notes.sections[1:]]
        runs.append({"sentences": len(notes.sentences), "true": true, "found": found})
        for tolerance in TOLERANCES:
            score = boundary_score(found, true, tolerance)
            totals[tolerance][0] += score.true_boundaries
            totals[tolerance][1] += score.found_boundaries
            totals[tolerance][2] += score.hits
            totals[tolerance][3] += score.near_true
    by_tolerance = {
        t: {
            "true": v[0],
            "found": v[1],
            "recall": round(v[2] / v[0], 3),
            "precision": round(v[3] / v[1], 3) if v[1] else 0.0,
        }
        for t, v in totals.items()
    }
    seconds = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps({"runs": runs, "seconds": seconds, "by_tolerance": by_tolerance}))
        return
    for run in runs:
        print(f"{run['sentences']} sentences; true {run['true']}; found {run['found']}")
    for t, v in by_tolerance.items():
        print(
            f"+-{t:>2} sentences: {v['recall']:.0%} of {v['true']} true boundaries found; "
            f"{v['precision']:.0%} of {v['found']} section starts near one"
        )


if __name__ == "__main__":
    main()
