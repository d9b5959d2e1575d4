"""Caption exports, each read back by a real parser: webvtt-py for WebVTT, pysrt for SubRip."""

import html
import json
import re

import pysrt  # type: ignore[import-untyped]
import pytest
import webvtt

from ml.streaming import FinalCaption
from ml.subtitles import (
    DEFAULT_MAX_LINE_CHARS,
    Cue,
    srt_timestamp,
    to_json,
    to_srt,
    to_text,
    to_vtt,
    vtt_timestamp,
    wrap_lines,
)

CUES = [
    Cue(0, 2_500, "The lecture today covers the basic ideas of machine learning."),
    Cue(2_900, 7_480, "We will start with linear regression, and then discuss how a model learns."),
    Cue(3_723_456, 3_725_000, "Please ask questions at any time."),
]
KOREAN_CUES = [
    Cue(1_000, 4_000, "오늘 수업에서는 인공지능의 기본 개념을 배웁니다."),
    Cue(
        4_200,
        9_900,
        "먼저 선형 회귀를 살펴보고 모델이 데이터에서 어떻게 학습하는지 "
        "그리고 왜 일반화가 중요한지 이야기하겠습니다.",
    ),
]
VTT_TIMING = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d\.\d{3} --> \d{2,}:[0-5]\d:[0-5]\d\.\d{3}$")
SRT_TIMING = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d,\d{3} --> \d{2,}:[0-5]\d:[0-5]\d,\d{3}$")


def read_vtt(text: str) -> list[Cue]:
    parsed = webvtt.from_string(text, strict=True)
    return [
        Cue(
            caption.start_time.in_milliseconds(),
            caption.end_time.in_milliseconds(),
            html.unescape(caption.raw_text),
        )
        for caption in parsed.captions
    ]


def read_srt(text: str) -> list[tuple[int, Cue]]:
    return [
        (item.index, Cue(item.start.ordinal, item.end.ordinal, item.text))
        for item in pysrt.from_string(text)
    ]


def unwrapped(text: str) -> str:
    return " ".join(text.split("\n"))


def assert_well_formed(output: str) -> None:
    assert "\r" not in output
    assert output.endswith("\n")
    assert not output.endswith("\n\n\n")


@pytest.mark.parametrize("cues", [CUES, KOREAN_CUES], ids=["english", "korean"])
def test_vtt_round_trip(cues: list[Cue]) -> None:
    output = to_vtt(cues)

    assert output.startswith("WEBVTT\n\n")
    assert_well_formed(output)
    parsed = read_vtt(output)
    assert [(cue.start_ms, cue.end_ms) for cue in parsed] == [
        (cue.start_ms, cue.end_ms) for cue in cues
    ]
    assert [unwrapped(cue.text) for cue in parsed] == [cue.text for cue in cues]
    timings = [line for line in output.splitlines() if "-->" in line]
    assert len(timings) == len(cues)
    assert all(VTT_TIMING.match(line) for line in timings)


@pytest.mark.parametrize("cues", [CUES, KOREAN_CUES], ids=["english", "korean"])
def test_srt_round_trip(cues: list[Cue]) -> None:
    output = to_srt(cues)

    assert_well_formed(output)
    parsed = read_srt(output)
    assert [index for index, _ in parsed] == list(range(1, len(cues) + 1))
    assert [(cue.start_ms, cue.end_ms) for _, cue in parsed] == [
        (cue.start_ms, cue.end_ms) for cue in cues
    ]
    assert [unwrapped(cue.text) for _, cue in parsed] == [cue.text for cue in cues]
    timings = [line for line in output.splitlines() if "-->" in line]
    assert all(SRT_TIMING.match(line) for line in timings)


@pytest.mark.parametrize("cues", [CUES, KOREAN_CUES], ids=["english", "korean"])
def test_json_and_text_round_trip(cues: list[Cue]) -> None:
    data = json.loads(to_json(cues))
    assert [Cue(**item) for item in data] == cues
    assert "\\u" not in to_json(cues)  # Hangul as UTF-8, not escapes

    text = to_text(cues)
    assert_well_formed(text)
    assert text.splitlines() == [cue.text for cue in cues]


def test_timestamps() -> None:
    assert vtt_timestamp(0) == "00:00:00.000"
    assert vtt_timestamp(3_723_456) == "01:02:03.456"
    assert srt_timestamp(3_723_456) == "01:02:03,456"
    assert vtt_timestamp(59_999) == "00:00:59.999"
    assert srt_timestamp(100 * 3_600_000 + 1) == "100:00:00,001"  # hours grow, never wrap


def test_no_cues() -> None:
    assert to_vtt([]) == "WEBVTT\n"
    assert webvtt.from_string(to_vtt([]), strict=True).captions == []
    assert to_srt([]) == ""
    assert len(pysrt.from_string(to_srt([]))) == 0
    assert to_text([]) == ""
    assert json.loads(to_json([])) == []


def test_empty_cues_are_dropped_and_srt_numbering_stays_sequential() -> None:
    cues = [
        Cue(0, 1000, "first"),
        Cue(1000, 2000, "   "),
        Cue(2000, 3000, ""),
        Cue(3000, 4000, "\n\t"),
        Cue(4000, 5000, "second"),
    ]
    assert [cue.text for cue in read_vtt(to_vtt(cues))] == ["first", "second"]
    assert [(index, cue.text) for index, cue in read_srt(to_srt(cues))] == [
        (1, "first"),
        (2, "second"),
    ]
    assert to_text(cues) == "first\nsecond\n"
    assert [item["text"] for item in json.loads(to_json(cues))] == ["first", "second"]


def test_vtt_escaping_keeps_cues_intact() -> None:
    nasty = "if a --> b && x < y then <b>bold</b> stays text"
    cues = [Cue(0, 1000, nasty), Cue(1000, 2000, "next cue")]
    output = to_vtt(cues)

    assert sum("-->" in line for line in output.splitlines()) == 2  # the timing lines only
    assert "<b>" not in output
    assert [unwrapped(cue.text) for cue in read_vtt(output)] == [nasty, "next cue"]
    # The text-only view of webvtt-py (tags stripped) must not lose anything either.
    parsed = webvtt.from_string(output, strict=True)
    assert unwrapped(html.unescape(parsed.captions[0].text)) == nasty


def test_srt_keeps_special_characters() -> None:
    text = "a --> b & <c>"  # short: one line
    assert [cue.text for _, cue in read_srt(to_srt([Cue(0, 900, text), Cue(900, 1800, "x")]))] == [
        text,
        "x",
    ]


def test_line_breaks_inside_text_cannot_end_a_cue() -> None:
    cues = [Cue(0, 1000, "one\n\ntwo\r\nthree"), Cue(1000, 2000, "four")]
    assert [cue.text for cue in read_vtt(to_vtt(cues))] == ["one two three", "four"]
    assert [cue.text for _, cue in read_srt(to_srt(cues))] == ["one two three", "four"]
    assert to_text(cues) == "one two three\nfour\n"


def test_long_cues_are_wrapped_into_balanced_lines() -> None:
    text = (
        "We will start with linear regression, and then discuss how a model learns from data "
        "and why generalization matters more than the training error."
    )
    output = to_vtt([Cue(0, 8000, text)])
    lines = output.splitlines()[3:]

    assert len(lines) == 4
    assert all(len(line) <= DEFAULT_MAX_LINE_CHARS for line in lines)
    assert " ".join(lines) == text  # broken at spaces only
    assert max(map(len, lines)) - min(map(len, lines)) < 15  # balanced, no short tail

    two = wrap_lines("The lecture today covers the basic ideas of machine learning.")
    assert two == ["The lecture today covers the", "basic ideas of machine learning."]
    assert wrap_lines("Short line.") == ["Short line."]


def test_korean_lines_count_characters() -> None:
    text = KOREAN_CUES[1].text
    assert len(text.encode()) > 2 * DEFAULT_MAX_LINE_CHARS * 3 // 2  # bytes would over-count

    lines = wrap_lines(text)
    assert len(lines) == 2
    assert all(len(line) <= DEFAULT_MAX_LINE_CHARS for line in lines)
    assert " ".join(lines) == text

    # Hangul written as decomposed jamo (macOS file names, some IMEs) counts as syllables too.
    decomposed = "\u1112\u1161\u11ab\u1100\u1173\u11af " * 20  # "한글 " x 20, NFD
    assert all(len(line) <= DEFAULT_MAX_LINE_CHARS for line in wrap_lines(decomposed))
    assert wrap_lines(decomposed)[0].startswith("한글 한글")


def test_words_longer_than_a_line_are_cut() -> None:
    url = "https://example.org/" + "x" * 80
    lines = wrap_lines(f"see {url} now", 42)
    assert all(len(line) <= 42 for line in lines)
    assert "".join(lines).replace(" ", "") == f"see{url}now"
    assert wrap_lines("a b c", max_line_chars=1) == ["a", "b", "c"]
    with pytest.raises(ValueError):
        wrap_lines("a", max_line_chars=0)


def test_times_are_made_valid_and_cues_sorted() -> None:
    cues = [Cue(5000, 6000, "later"), Cue(-20, 0, "first"), Cue(3000, 2000, "backwards")]
    parsed = read_vtt(to_vtt(cues))
    assert [(cue.start_ms, cue.end_ms, cue.text) for cue in parsed] == [
        (0, 1, "first"),
        (3000, 3001, "backwards"),
        (5000, 6000, "later"),
    ]


def test_any_timed_text_is_accepted() -> None:
    finals = [FinalCaption(start_ms=10, end_ms=900, text="Live caption.")]
    assert read_vtt(to_vtt(finals)) == [Cue(10, 900, "Live caption.")]
    assert json.loads(to_json(finals)) == [{"start_ms": 10, "end_ms": 900, "text": "Live caption."}]
