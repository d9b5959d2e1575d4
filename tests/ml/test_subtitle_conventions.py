"""Subtitle exports follow subtitle conventions: two lines at most, a line a reader takes in at
a glance (16 Hangul / 42 Latin characters), cues of about 1 to 7 s, cut between words; the
result still parses with real WebVTT and SubRip readers."""

import pysrt  # type: ignore[import-untyped]
import webvtt

from ml.subtitles import (
    SUBTITLE_HANGUL_LINE_CHARS,
    SUBTITLE_LATIN_LINE_CHARS,
    SUBTITLE_MAX_LINES,
    SUBTITLE_MAX_MS,
    SUBTITLE_MIN_MS,
    Cue,
    line_width_for,
    subtitle_cues,
    to_srt,
    to_vtt,
)

LONG_ENGLISH = Cue(
    0,
    20_000,
    "Four score and seven years ago our fathers brought forth on this continent a new nation, "
    "conceived in liberty, and dedicated to the proposition that all men are created equal. "
    "Now we are engaged in a great civil war, testing whether that nation can long endure.",
)
LONG_KOREAN = Cue(
    21_000,
    38_000,
    "오늘 수업에서는 인공지능의 기본 개념을 배우고 지도 학습과 비지도 학습의 차이를 살펴본 뒤 "
    "신경망이 역전파로 학습하는 과정을 예제와 함께 자세히 설명하겠습니다",
)
SHORT = Cue(38_100, 38_400, "네.")


def test_long_captions_become_two_line_cues_of_readable_length() -> None:
    cues = subtitle_cues([LONG_ENGLISH, LONG_KOREAN, SHORT])
    vtt = webvtt.from_string(to_vtt(cues, max_line_chars=None), strict=True)
    assert len(vtt.captions) > 3
    for caption in vtt.captions:
        lines = caption.text.split("\n")
        width = line_width_for(caption.text)
        assert len(lines) <= SUBTITLE_MAX_LINES, caption.text
        assert all(len(line) <= width for line in lines), caption.text
        duration = caption.end_in_seconds - caption.start_in_seconds
        assert duration <= SUBTITLE_MAX_MS / 1000 + 0.001


def test_cues_are_cut_between_words_and_keep_every_word_in_order() -> None:
    cues = subtitle_cues([LONG_ENGLISH, LONG_KOREAN])
    assert " ".join(cue.text for cue in cues) == f"{LONG_ENGLISH.text} {LONG_KOREAN.text}"
    words = set(LONG_ENGLISH.text.split()) | set(LONG_KOREAN.text.split())
    assert all(word in words for cue in cues for word in cue.text.split())


def test_a_short_cue_is_held_for_a_second_where_the_next_leaves_room() -> None:
    cues = subtitle_cues([SHORT, Cue(45_000, 46_500, "Next.")])
    assert cues[0].end_ms - cues[0].start_ms == SUBTITLE_MIN_MS
    crowded = subtitle_cues([Cue(0, 200, "a"), Cue(500, 2000, "b")])
    assert crowded[0].end_ms == 500  # never over the next cue


def test_line_width_follows_the_script() -> None:
    assert line_width_for("We are met on a great battlefield") == SUBTITLE_LATIN_LINE_CHARS
    assert line_width_for("역전파 backpropagation을 배웁니다") == SUBTITLE_HANGUL_LINE_CHARS


def test_srt_of_subtitle_cues_parses_and_numbers_every_cue() -> None:
    cues = subtitle_cues([LONG_ENGLISH, LONG_KOREAN])
    parsed = pysrt.from_string(to_srt(cues, max_line_chars=None))
    assert [item.index for item in parsed] == list(range(1, len(cues) + 1))
