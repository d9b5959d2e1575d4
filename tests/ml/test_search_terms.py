"""Search terms: Korean morphemes (particles and endings off), compounds both ways, English
words lower-cased and singular; queries analysed the same way; highlights on the right letters.

No Django, no database.
"""

from __future__ import annotations

import pytest

from ml.search_terms import (
    QueryTerm,
    english_term,
    highlight_spans,
    index_terms,
    query_terms,
)


def stored(text: str) -> list[str]:
    return index_terms(text).split()


def matches(query: str, text: str) -> bool:
    """What the database does: every group's atoms, or its joined compound, among the terms."""
    terms = set(stored(text))
    return all(
        set(group.atoms) <= terms or group.joined in terms for group in query_terms(query)
    ) and bool(query_terms(query))


def test_particles_and_endings_are_not_terms() -> None:
    assert stored("수업을 시작하겠습니다.") == ["수업", "시작"]


def test_the_stored_form_is_padded_so_like_can_match_whole_terms() -> None:
    assert index_terms("수업을 시작하겠습니다.") == " 수업 시작 "
    assert index_terms("음...") == " "
    assert index_terms("") == " "


def test_verbs_are_stored_as_their_stem() -> None:
    assert "배우" in stored("인공지능을 배웁니다")
    assert "듣" in stored("노래를 들었다")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("수업", "수업을 시작하겠습니다."),
        ("인공지능", "인공 지능 모델을 만듭니다"),
        ("인공 지능", "인공지능을 배웁니다"),
        ("인공지능", "인공지능이란 무엇일까요"),
        ("경사하강법", "경사 하강법으로 학습합니다"),
        ("하강법", "경사하강법으로 학습합니다"),
        ("자연어처리", "자연어 처리 기법"),
        ("최적화", "모델 최적화를 합니다"),
        ("Gradient", "the gradients vanish"),
        ("gradients", "Gradient descent"),
        ("queries", "one SQL query"),
        ("GPU 메모리", "GPU메모리가 부족해요"),
        ("배우다", "인공지능을 배웁니다"),
    ],
)
def test_a_query_finds_other_forms_of_its_words(query: str, text: str) -> None:
    assert matches(query, text), (query_terms(query), stored(text))


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("수업 과제", "수업을 시작하겠습니다."),  # every word must match
        ("지능", "지도 학습"),
        ("gradient", "gradual change"),
    ],
)
def test_a_query_does_not_find_unrelated_text(query: str, text: str) -> None:
    assert not matches(query, text)


def test_a_compound_query_is_one_group_of_atoms() -> None:
    assert query_terms("인공지능과 gradient") == [
        QueryTerm(("인공", "지능")),
        QueryTerm(("gradient",)),
    ]
    assert QueryTerm(("인공", "지능")).words == ("인공", "지능", "인공지능")


def test_a_query_of_particles_or_function_words_asks_for_nothing() -> None:
    assert query_terms("") == []
    assert query_terms("그리고 그래서") == []
    assert query_terms("the of and") == []


def test_english_words_are_lowered_and_made_singular_only() -> None:
    assert [english_term(w) for w in ["Gradients", "queries", "classes", "batches", "bias"]] == [
        "gradient",
        "query",
        "class",
        "batch",
        "bias",
    ]
    assert english_term("learning") == "learning"


def test_highlights_cover_the_word_without_its_particle() -> None:
    text = "수업을 시작하겠습니다."
    assert highlight_spans(text, query_terms("수업")) == [(0, 2)]


def test_highlights_of_a_compound_cover_both_parts_and_the_space() -> None:
    text = "오늘은 인공 지능, 그리고 인공지능."
    spans = highlight_spans(text, query_terms("인공지능"))
    assert [text[a:b] for a, b in spans] == ["인공 지능", "인공지능"]


def test_highlights_of_an_english_word_cover_the_whole_inflected_word() -> None:
    text = "Compute the Gradients."
    assert [text[a:b] for a, b in highlight_spans(text, query_terms("gradient"))] == ["Gradients"]


def test_a_verb_is_highlighted_by_its_analysed_stem() -> None:
    text = "인공지능을 배웁니다"
    assert [text[a:b] for a, b in highlight_spans(text, query_terms("배우다"))] == ["배웁"]


def test_a_one_syllable_noun_is_highlighted_only_where_it_is_a_word() -> None:
    text = "이 방법은 법에 어긋납니다"
    assert [text[a:b] for a, b in highlight_spans(text, query_terms("법"))] == ["법"]
    assert highlight_spans(text, query_terms("법")) == [(6, 7)]
