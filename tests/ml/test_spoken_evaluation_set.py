"""The spoken Korean evaluation set shipped in ml/data/pyconkr, the section-boundary scoring and
the pieces of the notes pipeline they measure (smoothing, the position prior). Real Kiwi; no
Django."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ml.lecture_notes import (
    LEAD_WEIGHT_WRITTEN,
    Caption,
    build_notes,
    lexical_vectors,
    position_prior,
    sentence_scores,
    smoothed,
)
from ml.section_eval import boundary_score, laid_end_to_end
from ml.subtitles import parse_captions
from ml.summary_data import PYCONKR_DIR, load_pyconkr
from ml.summary_training import EvaluationRow, markdown_table, text_table


def test_every_talk_of_the_set_is_the_file_its_reference_was_written_for() -> None:
    data = json.loads((PYCONKR_DIR / "references.json").read_text(encoding="utf-8"))
    assert data["source"]["licence"] == "CC BY 4.0"
    assert len(data["talks"]) == 5
    for talk in data["talks"]:
        body = (PYCONKR_DIR / talk["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == talk["sha256"]
        assert len(talk["reference"]) == 5
    readme = (PYCONKR_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and data["source"]["commit"] in readme


def test_the_talks_load_as_whole_sentences_with_a_reference() -> None:
    documents = load_pyconkr()
    assert [d.doc_id for d in documents] == [
        "2019-static-typing.srt",
        "2019-hwp-automation.srt",
        "2019-korean-spacing.srt",
        "2019-celery.srt",
        "2020-pronunciation-asr.srt",
    ]
    for document in documents:
        assert 100 <= len(document.sentences) <= 200  # joined captions, re-split by Kiwi
        assert document.reference.count("\n") == 4
        assert document.language == "ko"


def test_talks_laid_end_to_end_keep_their_order_and_an_ordinary_pause() -> None:
    first = [Caption(1, 5_000, 7_000, "가"), Caption(2, 7_500, 9_000, "나")]
    second = [Caption(1, 10_000, 12_000, "다")]
    captions, starts = laid_end_to_end([first, second], gap_ms=2_000)
    assert [c.text for c in captions] == ["가", "나", "다"]
    assert [c.seq for c in captions] == [1, 2, 3]
    assert (captions[0].start_ms, captions[1].end_ms) == (0, 4_000)
    assert captions[2].start_ms == 6_000  # 2 s after the first talk ends
    assert starts == [2]


def test_a_boundary_counts_once_and_only_within_the_tolerance() -> None:
    score = boundary_score(found=[10, 12, 50], true=[11, 30], tolerance=2)
    assert (score.true_boundaries, score.found_boundaries, score.hits) == (2, 3, 1)
    assert score.recall == 0.5
    assert score.near_true == 2  # 10 and 12 are both near 11, but 11 is found once
    assert boundary_score([], [5], 3).recall == 0.0


def test_smoothing_fills_a_one_gap_dip_but_keeps_a_wide_valley() -> None:
    flat_with_dip = np.array([0.8, 0.8, 0.8, 0.1, 0.8, 0.8, 0.8])
    assert smoothed(flat_with_dip, 2).min() > 0.5
    valley = np.array([0.8, 0.8, 0.2, 0.1, 0.1, 0.2, 0.8, 0.8])
    assert smoothed(valley, 2).argmin() in (3, 4)
    assert np.array_equal(smoothed(valley, 0), valley)


def test_two_real_talks_laid_end_to_end_are_split_where_the_second_begins() -> None:
    talks = []
    for name in ("2019-celery.srt", "2019-korean-spacing.srt"):
        cues = parse_captions((PYCONKR_DIR / name).read_text(encoding="utf-8"))
        talks.append([Caption(i, c.start_ms, c.end_ms, c.text) for i, c in enumerate(cues, 1)])
    captions, starts = laid_end_to_end(talks)
    notes = build_notes(captions)
    second = next(i for i, s in enumerate(notes.sentences) if s.seq >= captions[starts[0]].seq)
    found = [section.start for section in notes.sections[1:]]
    assert boundary_score(found, [second], tolerance=5).hits == 1


def test_the_position_prior_favours_the_start_and_is_off_by_default() -> None:
    prior = position_prior(10)
    assert list(prior) == sorted(prior, reverse=True)
    assert abs(float(prior.mean())) < 1e-9
    assert LEAD_WEIGHT_WRITTEN == 0.0  # learned on the development set (bench/tune_lead_prior.py)
    vectors = lexical_vectors([["가나", "다라"], ["가나", "다라"], ["가나", "다라"]])
    terms = [["가나", "다라"]] * 3
    flat = sentence_scores(vectors, terms, {"가나": 1.0}, [(0, 3)])
    led = sentence_scores(vectors, terms, {"가나": 1.0}, [(0, 3)], lead_weight=1.0)
    assert np.allclose(flat, flat[0])
    assert led[0] > led[1] > led[2]


def test_the_table_compares_every_method_with_lead_and_textrankr() -> None:
    row = EvaluationRow("m", 30.0, 10.0, 20.0, 5, (25.0, 35.0), (8.0, 12.0), (18.0, 22.0), 0.9, 0.7)
    assert "P(R-L > textrankr)" in markdown_table([row])
    assert markdown_table([row]).endswith("| 0.90 | 0.70 |")
    assert text_table([row]).split()[-2:] == ["0.90", "0.70"]
