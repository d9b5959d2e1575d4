"""Text that must never reach a caption: Whisper's stock hallucinations and repetition loops.

Whisper was trained on subtitled video, so on silence or noise it tends to "hear" the closing
lines of YouTube and broadcast subtitles. Those phrases are listed here, in one place, and matched
loosely: case, spaces and punctuation are ignored, and a text made only of such phrases counts.

On unclear audio (espeak's Korean voice is the test case) greedy decoding can also fall into a
loop, emitting the same word or phrase over and over. `repetition_keep_mask` keeps one copy of any
word n-gram repeated three or more times in a row and cuts near-loops short;
`collapse_repeated_characters` does the same inside a single word ("인공인공인공" -> "인공").
"""

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

# The known hallucination lines, one row each: (language, where, pattern over `squash()`ed text:
# NFKC, case-folded, letters and digits only, so spaces and punctuation never matter). A text is
# a hallucination when it consists of these lines alone (one or several); `where` says where else
# a line is cut: "anywhere" (also from the beginning or end of a longer sentence), "end" (only
# from its end: "이 영상은 세포 분열을 보여줍니다" is a real sentence), "whole" (only alone).
# Seen from Whisper on silence, noise, music and unclear speech: the endings and credits of the
# subtitled video it was trained on. Add a row when a new one turns up (tests check each row).
HALLUCINATION_LINES: tuple[tuple[str, str, str], ...] = (
    # Korean: YouTube and broadcast endings, subtitle credits.
    (
        "ko",
        "anywhere",
        r"(오늘도|지금까지|끝까지)?(시청|청취)(해|하여)?주셔서(정말|대단히)?(감사|고맙)(합니다|드립니다|습니다)",
    ),
    (
        "ko",
        "anywhere",
        r"구독(과|와|및)?좋아요(와|및|그리고)?(알림설정)?(부탁드립니다|부탁드려요|눌러주세요)?",
    ),
    ("ko", "anywhere", r"좋아요(와|및)?구독(부탁드립니다|부탁드려요|눌러주세요)?"),
    ("ko", "anywhere", r"구독(하기)?(부탁드립니다|부탁드려요|해주세요)"),
    ("ko", "anywhere", r"(알림설정|알람설정)(까지)?(부탁드립니다|부탁드려요|해주세요)"),
    (
        "ko",
        "anywhere",
        r"다음영상에(서)?(또)?(만나요|뵙겠습니다|봬요)",
    ),  # "다음 시간에" is a lecture's
    (
        "ko",
        "end",
        # ... also with the stutter Whisper trails after it on hard audio, words that all begin
        # with 영상 ("영상에서 영상에 대한", "영상에서 영상에 들어가서").
        r"이영상은(유튜브)?(\w{0,12}?(제공|후원|지원)(됩니다|합니다|했습니다|받았습니다))?"
        r"(영상\w{0,6}?)*",
    ),
    ("ko", "anywhere", r"이시각세계였습니다"),
    ("ko", "anywhere", r"mbc뉴스(\w{0,8}?(입니다|였습니다))?"),
    ("ko", "anywhere", r"(kbs|sbs|ytn|jtbc|mbn|tv조선|채널a|연합)뉴스\w{0,8}?(입니다|였습니다)"),
    ("ko", "end", r"(한글)?자막(제공|제작|by|편집)\w{0,12}?"),
    ("ko", "whole", r"영상(편집|제작)\w{0,12}?"),
    # English: subtitle credits and sign-offs.
    (
        "en",
        "anywhere",
        r"(thanks|thank you)(so much|very much)?for watching(and see you next time)?",
    ),
    ("en", "end", r"(please)?(like (and|&))?subscribe(to (my|our|the) channel)?"),
    ("en", "end", r"(dont forget to)?(like and)?subscribe(and hit the bell)?"),
    (
        "en",
        "anywhere",
        r"(subtitles|captions|transcription|translated|subtitled|transcribed)by\w{0,30}",
    ),
    ("en", "anywhere", r"(www)?amaraorg(community)?"),
    ("en", "end", r"(ill)?see you (in the )?next (time|video|one)"),
    ("en", "whole", r"(thanks|thank you)for listening"),
    ("en", "whole", r"you"),  # base models' usual output for a silent window
)
# Kept for older imports: the patterns alone.
HALLUCINATION_PATTERNS: tuple[str, ...] = tuple(pattern for _, _, pattern in HALLUCINATION_LINES)

_HALLUCINATION_RE = re.compile(
    "(?:" + "|".join(f"(?:{p.replace(' ', '')})" for p in HALLUCINATION_PATTERNS) + ")+"
)

_LONGEST_HALLUCINATION = 160


def squash(text: str) -> str:
    """Case-, space- and punctuation-insensitive key: NFKC, case-folded, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if char.isalnum())


def is_hallucination(text: str) -> bool:
    """True for text made only of known silence hallucinations ("Thanks for watching!")."""
    key = squash(text)
    if len(key) > _LONGEST_HALLUCINATION:
        return False  # real speech; also keeps the regex's work bounded
    return bool(key) and _HALLUCINATION_RE.fullmatch(key) is not None


def _lines_re(places: tuple[str, ...]) -> re.Pattern[str]:
    patterns = [p.replace(" ", "") for _, where, p in HALLUCINATION_LINES if where in places]
    return re.compile("(?:" + "|".join(f"(?:{p})" for p in patterns) + ")+")


_HEAD_RE = _lines_re(("anywhere",))
_TAIL_RE = _lines_re(("anywhere", "end"))


def hallucinated_ends(words: Sequence[str]) -> tuple[int, int]:
    """(start, end): the slice of `words` left once known hallucination lines are cut from its
    beginning and end ("영상에서 영상을 이 영상은" -> the first two words). A text that is a
    hallucination as a whole gives an empty slice."""
    keys = [squash(word) for word in words]
    if is_hallucination("".join(keys)):
        return 0, 0
    end = len(keys)
    for cut in range(max(1, len(keys) - 12), len(keys)):  # the longest hallucinated tail
        tail = "".join(keys[cut:])
        if tail and len(tail) <= _LONGEST_HALLUCINATION and _TAIL_RE.fullmatch(tail):
            end = cut
            break
    start = 0
    for cut in range(min(end - 1, 12), 0, -1):  # the longest hallucinated head
        head = "".join(keys[:cut])
        if head and len(head) <= _LONGEST_HALLUCINATION and _HEAD_RE.fullmatch(head):
            start = cut
            break
    return start, end


# A sentence lighter than this (squashed; see `_echo_weight`) is too short to call an echo ("네").
_MIN_ECHO_CHARS = 12
_ECHO_SIMILARITY = 0.8
_PIECE_RE = re.compile(r"[,\uff0c\u3001;\uff1b.?!\u3002\uff1f\uff01]")
_SENTENCE_RE = re.compile(r"[^.?!\u3002\uff1f\uff01]+[.?!\u3002\uff1f\uff01]*")


def _echo_weight(key: str) -> int:
    """Length for the echo minimum: a Hangul or CJK character weighs two Latin letters."""
    return sum(2 if ord(char) >= 0x2E80 else 1 for char in key)


def _sentence_keys(text: str) -> list[str]:
    return [key for key in (squash(m.group()) for m in _SENTENCE_RE.finditer(text)) if key]


def _similar(key: str, other: str) -> bool:
    if not 0.7 * len(key) <= len(other) <= 1.3 * len(key):
        return False
    matcher = SequenceMatcher(None, key, other, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / len(key) >= _ECHO_SIMILARITY


def is_prompt_echo(text: str, prompt: str) -> bool:
    """True when a sentence of `text` is (nearly) a sentence of the prompt, or a piece of it at
    least `_MIN_ECHO_CHARS` long: Whisper copying its prompt instead of hearing the audio. Seen
    with the base model on the words after a committed sentence (it "hears" that sentence again,
    sometimes twice) and on hard audio with the course vocabulary as the prompt (the vocabulary
    line itself came out as a caption)."""
    prompt_keys = _sentence_keys(prompt)
    whole = squash(prompt)
    pieces = [key for key in (squash(piece) for piece in _PIECE_RE.split(prompt)) if key]
    for key in _sentence_keys(text):
        if _echo_weight(key) < _MIN_ECHO_CHARS:
            continue
        if any(_similar(key, other) for other in prompt_keys):
            return True
        # A stretch of the prompt across a comma: a list of vocabulary terms, not one term
        # said on its own ("Linear regression." stays when "linear regression" is a term).
        if key in whole and not any(key in piece for piece in pieces):
            return True
    return False


class SegmentSignals(Protocol):
    """Whisper's own confidence signals for one decoded segment (faster-whisper's names)."""

    @property
    def text(self) -> str: ...
    @property
    def compression_ratio(self) -> float: ...
    @property
    def avg_logprob(self) -> float: ...
    @property
    def no_speech_prob(self) -> float: ...


@dataclass(frozen=True)
class ReliabilityThresholds:
    """When Whisper's signals say a decode was not heard but invented.

    faster-whisper reports the signals per decode (every segment of one 30 s window shares them).
    openai-whisper decodes again at a higher temperature when the compression ratio is above
    2.4 (a repetitive text; here it must hold for the segment's own text too) and skips a window
    as silence when the no-speech probability is above 0.6 while the average log-probability is
    below -1.0; here such text is dropped, with
    the silence rule made stricter: espeak-ng's Korean voice is decoded at -1.1 to -1.7 with
    no-speech 0.5-0.85 and real words in it (docs/benchmarks.md, "Recognition quality").
    """

    max_compression_ratio: float = 2.4
    no_speech_prob: float = 0.8
    no_speech_avg_logprob: float = -1.5
    min_avg_logprob: float = -2.5  # below it, a decode is a guess whatever else it says


DEFAULT_RELIABILITY = ReliabilityThresholds()


def compression_ratio(text: str) -> float:
    """Whisper's repetitiveness measure: UTF-8 bytes per zlib-compressed byte."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def unreliable_reason(
    segment: SegmentSignals, thresholds: ReliabilityThresholds = DEFAULT_RELIABILITY
) -> str | None:
    """Why Whisper's signals reject `segment` ("repetitive", "no_speech", "guess"), or None."""
    if (
        segment.compression_ratio > thresholds.max_compression_ratio
        and compression_ratio(segment.text) > thresholds.max_compression_ratio
    ):
        # The decode repeats itself, and so does this segment of it (faster-whisper reports the
        # ratio of the whole 30 s window: its other segments may be real speech).
        return "repetitive"
    if (
        segment.no_speech_prob > thresholds.no_speech_prob
        and segment.avg_logprob < thresholds.no_speech_avg_logprob
    ):
        return "no_speech"
    if segment.avg_logprob < thresholds.min_avg_logprob:
        return "guess"
    return None


def _ngram_keep_mask(keys: Sequence[str], min_repeats: int, max_ngram: int) -> list[bool]:
    keep = [True] * len(keys)
    i = 0
    while i < len(keys):
        collapsed = False
        for size in range(1, max_ngram + 1):
            if i + size * min_repeats > len(keys):
                break
            unit = keys[i : i + size]
            if not any(unit):
                continue
            repeats = 1
            while keys[i + repeats * size : i + (repeats + 1) * size] == unit:
                repeats += 1
            if repeats >= min_repeats:
                for index in range(i + size, i + repeats * size):
                    keep[index] = False
                i += repeats * size
                collapsed = True
                break
        if not collapsed:
            i += 1
    return keep


# Any letter unit of up to 12 characters repeated back to back (checked for 3+ copies below).
_SQUASHED_LOOP_RE = re.compile(r"(\w{1,12}?)\1{2,}")


def _first_loop_cut(squashed: str, min_repeats: int) -> int | None:
    """Offset where the second copy of the first loop starts in `squashed` text, if any.

    Units without a letter (digit runs such as "1000000") are not loops; a one-letter unit needs
    five copies ("ㅋㅋㅋ" and "willlearn" stay).
    """
    position = 0
    while (match := _SQUASHED_LOOP_RE.search(squashed, position)) is not None:
        unit = match.group(1)
        copies = (match.end() - match.start()) // len(unit)
        needed = max(min_repeats, 5) if len(unit) == 1 else min_repeats
        if copies >= needed and any(char.isalpha() for char in unit):
            return match.start() + len(unit)
        position = match.start() + 1
    return None


# A number made of this many digit groups ("5.4.5.6.7.6.9", "1.0.0.0.0.1.0") is a decoding loop,
# not a number anyone says (an IP address has four groups, a version or a date three).
_MAX_DIGIT_GROUPS = 5
_DIGIT_GROUP_RE = re.compile(r"\d+")
# This many number-only words in a row ("1 ... 2 ... 3 ... 4 ...") is Whisper counting: the
# first `min_repeats` are kept.
_MAX_NUMBER_RUN = 5


def _is_number_loop(word: str) -> bool:
    return (
        not any(char.isalpha() for char in word)
        and len(_DIGIT_GROUP_RE.findall(word)) > _MAX_DIGIT_GROUPS
    )


def _number_run_mask(words: Sequence[str], keep: list[bool], min_repeats: int) -> None:
    """Drop digit-group loops, and number-only words past the first `min_repeats` of a run
    longer than `_MAX_NUMBER_RUN` (in place)."""
    run: list[int] = []
    for i, word in enumerate([*words, "."]):  # a sentinel closes the last run
        key = squash(word)
        if i < len(words) and _is_number_loop(word):
            keep[i] = False
        if i < len(words) and key and key.isdigit():
            run.append(i)
            continue
        if len(run) > _MAX_NUMBER_RUN:
            for index in run[min_repeats:]:
                keep[index] = False
        run = []


def repetition_keep_mask(
    words: Sequence[str], *, min_repeats: int = 3, max_ngram: int = 8
) -> list[bool]:
    """Which words survive the loop guard.

    1. A word n-gram repeated `min_repeats`+ times in a row is cut to one copy (words compared
       squashed, so "요청한다." equals "요청한다"; the shortest unit wins: "a b a b a b" keeps
       "a b"; two copies, "very very", stay). What follows the loop is kept.
    2. Near-loops that step 1 misses because Whisper glued or bent the copies ("공기의
       공기의공기의 공기의 공기에") are found in the squashed text of the remaining words: from the
       word where a unit's second back-to-back copy starts, the rest is dropped.
    3. Numbers that are loops: a word of more than five digit groups ("5.4.5.6.7.6.9") and a run
       of more than five number-only words (Whisper counting "1 ... 2 ... 3 ...") past its first
       `min_repeats`.
    """
    keys = [squash(word) for word in words]
    keep = _ngram_keep_mask(keys, min_repeats, max_ngram)
    _number_run_mask(words, keep, min_repeats)
    kept_indices = [i for i, kept in enumerate(keep) if kept]
    offsets: list[int] = []
    length = 0
    for i in kept_indices:
        offsets.append(length)
        length += len(keys[i])
    cut = _first_loop_cut("".join(keys[i] for i in kept_indices), min_repeats)
    if cut is not None:
        for i, offset in zip(kept_indices, offsets, strict=True):
            if offset >= cut:
                keep[i] = False
    return keep


def collapse_repetitions(words: Sequence[str], *, min_repeats: int = 3) -> list[str]:
    mask = repetition_keep_mask(words, min_repeats=min_repeats)
    return [word for word, kept in zip(words, mask, strict=True) if kept]


# A letter sequence of 2-10 characters repeated 3+ times, or one letter 5+ times, inside a word.
_REPEATED_UNIT_RE = re.compile(r"([^\W\d_]{2,10}?)\1{2,}|([^\W\d_])\2{4,}")


def collapse_repeated_characters(word: str) -> str:
    """Cut an in-word loop ("인공인공인공인" -> "인공인") to one copy; digits are untouched."""
    return _REPEATED_UNIT_RE.sub(lambda match: match.group(1) or match.group(2), word)


def has_repetition_loop(text: str, *, min_repeats: int = 3) -> bool:
    """True when `text` holds a loop that the guard above would cut."""
    words = text.split()
    if any(collapse_repeated_characters(word) != word for word in words):
        return True
    return not all(repetition_keep_mask(words, min_repeats=min_repeats))
