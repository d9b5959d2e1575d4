"""The spoken Korean evaluation set shipped in ml/data/pyconkr, the section-boundary scoring and
the pieces of the notes pipeline they measure (smoothing, the position prior). Real Kiwi; no
Django."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ml import lecture_notes
from ml.lecture_notes import (
    LEAD_WEIGHT_WRITTEN,
    Caption,
    build_notes,
    lexical_vectors,
    position_prior,
    sentence_scores,
    smoothed,
    summarize_sentences,
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
    assert LEAD_WEIGHT_WRITTEN == 0.0  # learned on the development set (tune_written_scoring.py)
    vectors = lexical_vectors([["가나", "다라"], ["가나", "다라"], ["가나", "다라"]])
    terms = [["가나", "다라"]] * 3
    flat = sentence_scores(vectors, terms, {"가나": 1.0}, [(0, 3)])
    led = sentence_scores(vectors, terms, {"가나": 1.0}, [(0, 3)], lead_weight=1.0)
    assert np.allclose(flat, flat[0])
    assert led[0] > led[1] > led[2]


def test_the_length_exponent_decides_between_one_key_term_and_several_lesser_ones() -> None:
    # Topic alone (centrality share 0): "가" (2) against "가, 나, 다, 라" (2 + 3 x 0.5 = 3.5).
    terms = [["가"], ["가", "나", "다", "라"]]
    weights = {"가": 2.0, "나": 0.5, "다": 0.5, "라": 0.5}
    vectors = lexical_vectors(terms)

    def scores(exponent: float) -> list[float]:
        found = sentence_scores(
            vectors, terms, weights, [(0, 2)], centrality_share=0.0, length_exponent=exponent
        )
        return [float(v) for v in found]

    summed = scores(0.0)  # 2 against 3.5: the longer sentence
    per_term = scores(1.0)  # 2 / 2 against 3.5 / 5: the shorter one
    assert summed[1] > summed[0]
    assert per_term[0] > per_term[1]


SUMMARY_TEXTS = [
    "오늘은 날씨가 좋아서 여러분과 함께 공부하게 되어 기쁩니다.",
    "신경망은 입력층과 은닉층과 출력층으로 이루어진 모델입니다.",
    "신경망의 은닉층은 입력을 변환하여 출력층에 전달합니다.",
    "신경망 모델은 역전파로 은닉층의 가중치를 학습합니다.",
]


def test_a_spoken_summary_never_gets_the_written_position_prior(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lecture_notes, "LEAD_WEIGHT_WRITTEN", 100.0)
    written = summarize_sentences(SUMMARY_TEXTS, 1)
    spoken = summarize_sentences(SUMMARY_TEXTS, 1, spoken=True)
    assert written[0].sentences == (0,)  # the greeting, by position alone
    assert 0 not in spoken[0].sentences


def test_pyconkr_talks_are_summarized_as_speech_in_the_evaluation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ml.summary_data import SummaryDocument
    from ml.summary_training import notes_method

    monkeypatch.setattr(lecture_notes, "LEAD_WEIGHT_WRITTEN", 100.0)
    vectors = np.zeros((0, 0), dtype=np.float32)
    method = notes_method(False)
    for source, opens_with_greeting in (("kobill", True), ("spoken", False)):
        doc = SummaryDocument("d", source, "ko", tuple(SUMMARY_TEXTS), ())
        picked = [s.index for s in method(doc, vectors, 1)]
        assert (0 in picked) is opens_with_greeting


def test_the_table_compares_every_method_with_lead_and_textrankr() -> None:
    row = EvaluationRow("m", 30.0, 10.0, 20.0, 5, (25.0, 35.0), (8.0, 12.0), (18.0, 22.0), 0.9, 0.7)
    assert "P(R-L > textrankr)" in markdown_table([row])
    assert markdown_table([row]).endswith("| 0.90 | 0.70 |")
    assert text_table([row]).split()[-2:] == ["0.90", "0.70"]
