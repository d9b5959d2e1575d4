"""The hallucination list and the repetition-loop guard."""

import pytest

from ml.caption_filters import (
    collapse_repeated_characters,
    collapse_repetitions,
    has_repetition_loop,
    is_hallucination,
    is_prompt_echo,
    repetition_keep_mask,
)


@pytest.mark.parametrize(
    "text",
    [
        "시청해주셔서 감사합니다.",
        "시청해 주셔서 감사합니다!!",
        "  시청 해 주 셔 서   감사합니다 ",
        "오늘도 시청해 주셔서 고맙습니다",
        "구독과 좋아요 부탁드립니다.",
        "구독과 좋아요",
        "MBC 뉴스 이덕영입니다.",
        "MBC 뉴스",
        "시청해주셔서 감사합니다. 구독과 좋아요 부탁드립니다!",
        "Thanks for watching!",
        "THANK YOU FOR WATCHING.",
        "thanks, for... watching",
        "Subtitles by the Amara.org community",
        "Thanks for watching! Please subscribe.",
        "you",
        " You.",
    ],
)
def test_known_hallucinations_match_loosely(text: str) -> None:
    assert is_hallucination(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "감사합니다. 오늘 수업은 여기까지입니다.",
        "자막이 잘 보이나요?",
        "MBC 뉴스에 따르면 금리가 올랐습니다",
        "Thank you.",
        "Thanks for watching the demo; now let us look at the code.",
        "Please ask questions at any time.",
        "You can see the gradient here.",
    ],
)
def test_real_speech_is_not_a_hallucination(text: str) -> None:
    assert not is_hallucination(text)


def test_word_loop_is_collapsed_to_one_copy() -> None:
    words = ["요청한다", "요청한다", "요청한다", "요청한다", "요청한다"]
    assert collapse_repetitions(words) == ["요청한다"]


def test_loop_comparison_ignores_punctuation_and_keeps_what_follows() -> None:
    words = ["요청한다.", "요청한다", "요청한다,", "그리고", "끝났다."]
    assert collapse_repetitions(words) == ["요청한다.", "그리고", "끝났다."]


def test_ngram_loop_keeps_one_unit() -> None:
    words = ["we", "will", "see", "we", "will", "see", "we", "will", "see", "the", "end"]
    assert collapse_repetitions(words) == ["we", "will", "see", "the", "end"]


def test_two_copies_are_not_a_loop() -> None:
    words = ["very", "very", "good", "good"]
    assert collapse_repetitions(words) == words
    assert not has_repetition_loop("very very good good")


def test_glued_near_loop_is_cut_at_its_second_copy() -> None:
    # What Whisper base made of espeak's Korean: copies glued together and bent at the end.
    words = ["이", "공기의", "공기의공기의", "공기의", "공기에", "대한"]
    mask = repetition_keep_mask(words)
    assert [w for w, kept in zip(words, mask, strict=True) if kept] == ["이", "공기의"]


def test_in_word_loop_is_collapsed_but_digits_and_short_runs_stay() -> None:
    assert collapse_repeated_characters("인공인공인공인") == "인공인"
    assert collapse_repeated_characters("공인공인공인공은") == "공인공은"
    assert collapse_repeated_characters("1000000") == "1000000"
    assert collapse_repeated_characters("하하") == "하하"
    assert collapse_repeated_characters("ㅋㅋㅋ") == "ㅋㅋㅋ"


@pytest.mark.parametrize(
    ("text", "looping"),
    [
        ("요청한다 요청한다 요청한다", True),
        ("a b a b a b", True),
        ("소문인공인공인공인공인", True),
        ("It costs 1000000 won, or 2000000 won.", False),
        ("We will start with linear regression, and then discuss it.", False),
        ("오늘 수업에서는 인공지능의 기본 개념을 배웁니다.", False),
    ],
)
def test_has_repetition_loop(text: str, looping: bool) -> None:
    assert has_repetition_loop(text) is looping


def test_a_sentence_copied_from_the_prompt_is_an_echo() -> None:
    prompt = (
        "linear regression The lecture covers the basics. We will start with linear regression."
    )
    assert is_prompt_echo("We will start with linear regression.", prompt)
    # Bent a little, and doubled, as the base model does.
    doubled = "We will start with a linear regression. We will start with linear regressions."
    assert is_prompt_echo(doubled, prompt)
    assert is_prompt_echo(" we WILL start with linear-regression", prompt)
    # New speech, short answers and sentences that only share words are not.
    assert not is_prompt_echo("Please ask questions at any time.", prompt)
    assert not is_prompt_echo("Regression.", prompt)
    assert not is_prompt_echo("We will start with logistic classification today.", prompt)
    assert not is_prompt_echo("오늘 수업을 시작하겠습니다.", "")
