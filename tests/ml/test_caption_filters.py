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


# -- issue 13: the table, Whisper's signals, number loops, vocabulary echoes ----------------------

from dataclasses import dataclass  # noqa: E402

from ml.caption_filters import (  # noqa: E402
    HALLUCINATION_LINES,
    hallucinated_ends,
    unreliable_reason,
)


@pytest.mark.parametrize(
    "line",
    [
        "이 영상은",
        "시청해 주셔서 감사합니다.",
        "구독과 좋아요 부탁드립니다!",
        "MBC 뉴스 김철수입니다.",
        "자막 제공: 배달의 민족",
        "Thanks for watching!",
        "Subtitles by the Amara.org community",
        "Thank you for listening.",
        "다음 영상에서 만나요",
    ],
)
def test_every_listed_line_is_a_hallucination(line: str) -> None:
    assert is_hallucination(line)


def test_the_table_names_a_language_for_every_line() -> None:
    assert {language for language, _, _ in HALLUCINATION_LINES} == {"ko", "en"}
    assert {where for _, where, _ in HALLUCINATION_LINES} <= {"anywhere", "end", "whole"}


def test_listed_lines_are_cut_from_the_ends_of_a_sentence_but_not_real_words() -> None:
    def kept(text: str) -> str:
        words = text.split()
        start, end = hallucinated_ends(words)
        return " ".join(words[start:end])

    assert kept("영상에서 영상을 이 영상은") == "영상에서 영상을"
    assert kept("시청해 주셔서 감사합니다. 오늘은") == "오늘은"
    assert kept("I will see you") == "I will see you"  # "you" alone only as a whole caption
    assert kept("이 영상은 세포 분열을 보여줍니다") == "이 영상은 세포 분열을 보여줍니다"
    # The stutter Whisper trails after the line on hard audio (seen in CI under load).
    assert kept("삽 쇼 이 영상은 영상에서 영상에 들어가서") == "삽 쇼"
    real = "이 영상은 영상 처리의 기초를 보여줍니다"
    assert kept(real) == real


@dataclass
class Signals:
    text: str = " 이 두 화의 소식, 이 두 화의 소식, 두 화의 소식, 이 두 화의 소식, 이 두 화의 소식."
    compression_ratio: float = 1.3
    avg_logprob: float = -0.4
    no_speech_prob: float = 0.1


def test_whisper_signals_reject_repetitive_silent_and_guessed_decodes() -> None:
    assert unreliable_reason(Signals()) is None
    assert unreliable_reason(Signals(compression_ratio=3.8)) == "repetitive"
    # The window repeats itself, but not this segment of it: kept.
    assert (
        unreliable_reason(Signals(text=" 오늘은 법률안을 배웁니다.", compression_ratio=3.8)) is None
    )
    assert unreliable_reason(Signals(no_speech_prob=0.9, avg_logprob=-1.8)) == "no_speech"
    assert unreliable_reason(Signals(avg_logprob=-2.7)) == "guess"
    # espeak's Korean: low confidence with real words in it is kept.
    assert unreliable_reason(Signals(no_speech_prob=0.84, avg_logprob=-1.42)) is None


def test_number_loops_are_cut_but_real_numbers_stay() -> None:
    assert has_repetition_loop("1.0.0.0.0.1.0.0.0.2.0.0.0.3")
    assert has_repetition_loop("5.4.5.6.7.6.9.")
    assert has_repetition_loop("1 2 3 4 5 6 7")
    assert not has_repetition_loop("version 1.2.3 on 192.168.0.1")
    assert not has_repetition_loop("in 2024 we had 3 of 5 and 7")


def test_the_vocabulary_prompt_is_an_echo_but_one_term_said_alone_is_not() -> None:
    vocabulary = "인공지능, 선형 회귀, 경사 하강법, 학습률"
    assert is_prompt_echo("인공지능, 선형 회귀, 경사 하강법", vocabulary)
    assert is_prompt_echo("법률안에 관한 강의입니다", "법률안에 관한 강의입니다")
    assert not is_prompt_echo("Linear regression.", "gradient descent, linear regression")
