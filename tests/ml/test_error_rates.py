"""Word and character error rates on normalized text."""

import pytest

from ml.error_rates import (
    character_error_rate,
    deleted_words,
    edit_distance,
    normalize_text,
    word_error_rate,
)


def test_normalization_ignores_case_punctuation_and_spacing() -> None:
    assert normalize_text("  Hello,   WORLD!  It's  fine. ") == "hello world it s fine"
    assert normalize_text("안녕하세요, 여러분.") == "안녕하세요 여러분"


def test_edit_distance_counts_substitutions_insertions_deletions() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert edit_distance(["a", "b"], []) == 2


def test_word_error_rate() -> None:
    reference = "the cat sat on the mat"
    assert word_error_rate(reference, "The cat sat on the mat.") == 0.0
    assert word_error_rate(reference, "the cat sat on a mat") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "the cat sat on the mat today") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "") == 1.0
    assert word_error_rate("", "") == 0.0


def test_character_error_rate_ignores_spaces() -> None:
    assert character_error_rate("인공 지능", "인공지능") == 0.0
    assert character_error_rate("인공지능", "인공기능") == pytest.approx(1 / 4)


def test_deleted_words_counts_speech_no_caption_carries_not_misheard_words() -> None:
    reference = "the cat sat on the mat"
    assert deleted_words(reference, "The cat sat on the mat.") == 0
    assert deleted_words(reference, "the bat sat on a mat") == 0  # misheard, not lost
    assert deleted_words(reference, "the cat mat") == 3
    assert deleted_words(reference, "the cat sat on the mat and more") == 0
    assert deleted_words(reference, "") == 6
