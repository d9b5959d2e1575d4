"""ROUGE on Kiwi morphemes: Korean scores are real (never the 0 of rouge-score's tokenizer)."""

from __future__ import annotations

import pytest

from ml.rouge import greedy_oracle, lcs_length, morphemes, rouge, rouge_l, rouge_n


def test_morphemes_keep_hangul_and_drop_punctuation() -> None:
    assert morphemes("고양이가 매트 위에 앉았다.") == [
        "고양이",
        "가",
        "매트",
        "위",
        "에",
        "앉",
        "었",
        "다",
    ]
    assert morphemes("Gradient Descent, 3.5배!") == ["gradient", "descent", "3.5", "배"]
    assert morphemes("  ") == []


def test_a_hand_computed_korean_example() -> None:
    # candidate: 고양이 가 매트 위 에 앉 었 다 / reference: 고양이 가 매트 위 에 있 었 다
    scores = rouge("고양이가 매트 위에 앉았다.", "고양이가 매트 위에 있었다.")
    # 7 of 8 morphemes shared (all but 앉/있)
    assert scores.rouge1.precision == pytest.approx(7 / 8)
    assert scores.rouge1.recall == pytest.approx(7 / 8)
    assert scores.rouge1.f1 == pytest.approx(7 / 8)
    # bigrams: 7 each; shared: 고양이-가, 가-매트, 매트-위, 위-에, 었-다
    assert scores.rouge2.f1 == pytest.approx(5 / 7)
    # LCS: 고양이 가 매트 위 에 었 다
    assert scores.rougeL.f1 == pytest.approx(7 / 8)


def test_precision_and_recall_differ_with_lengths() -> None:
    score = rouge_n(["a", "b"], ["a", "b", "c", "d"], 1)
    assert (score.precision, score.recall) == (1.0, 0.5)
    assert score.f1 == pytest.approx(2 / 3)


def test_counts_are_clipped() -> None:
    assert rouge_n(["a", "a", "a"], ["a", "b"], 1).precision == pytest.approx(1 / 3)


def test_empty_and_identical_texts() -> None:
    assert rouge("", "학습률").rouge1.f1 == 0.0
    assert rouge("학습률", "").rougeL.f1 == 0.0
    same = rouge("경사 하강법은 기울기를 따라 내려간다.", "경사 하강법은 기울기를 따라 내려간다.")
    assert same.rouge1.f1 == same.rouge2.f1 == same.rougeL.f1 == 1.0


def test_lcs() -> None:
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], ["a"]) == 0
    assert rouge_l(["x", "a", "b"], ["a", "y", "b"]).f1 == pytest.approx(2 / 3)


def test_the_oracle_picks_the_reference_sentences_in_document_order() -> None:
    sentences = [
        "오늘은 날씨가 좋습니다.",
        "신경망은 역전파로 가중치를 학습합니다.",
        "점심은 김밥이었습니다.",
        "경사 하강법은 손실을 줄이는 방향으로 움직입니다.",
    ]
    reference = "경사 하강법은 손실을 줄입니다. 신경망은 역전파로 학습합니다."
    tokens = [morphemes(s) for s in sentences]
    assert greedy_oracle(tokens, morphemes(reference), 3) == [1, 3]  # stops: no further gain
    assert greedy_oracle(tokens, morphemes(reference), 1) in ([1], [3])
    assert greedy_oracle(tokens, [], 3) == []
