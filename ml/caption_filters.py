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
from collections.abc import Sequence
from difflib import SequenceMatcher

# Patterns over `squash()`ed text (NFKC, case-folded, letters and digits only).
# Each pattern is one phrase; a text is a hallucination when it consists of these phrases alone.
HALLUCINATION_PATTERNS: tuple[str, ...] = (
    # Korean broadcast and YouTube endings.
    r"(오늘도|지금까지|끝까지)?시청(해|하여)?주셔서(정말|대단히)?(감사|고맙)(합니다|드립니다|습니다)",
    r"구독(과|와|및)?좋아요(와|및|그리고)?(알림설정)?(부탁드립니다|부탁드려요|눌러주세요)?",
    r"좋아요(와|및)?구독(부탁드립니다|부탁드려요|눌러주세요)?",
    r"구독(하기)?(부탁드립니다|부탁드려요|해주세요)",
    r"다음(영상|시간)에(서)?(또)?(만나요|뵙겠습니다)",
    r"mbc뉴스(\w{0,8}?(입니다|였습니다))?",
    r"(kbs|sbs|ytn|jtbc)뉴스\w{0,8}?(입니다|였습니다)",
    r"(한글)?자막(제공|제작|by)\w{0,12}?",
    # English subtitle credits and sign-offs.
    r"(thanks|thank you)(so much|very much)?for watching",
    r"(please)?(like (and|&))?subscribe(to (my|our|the) channel)?",
    r"(subtitles|captions|transcription|translated|subtitled)by\w{0,30}",
    r"(www)?amaraorg(community)?",
    r"see you (in the )?next (time|video)",
    r"you",  # base models' usual output for a silent window
)

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


# A sentence shorter than this (squashed) is too short to call an echo ("네", "OK").
_MIN_ECHO_CHARS = 12
_ECHO_SIMILARITY = 0.8
_SENTENCE_RE = re.compile(r"[^.?!\u3002\uff1f\uff01]+[.?!\u3002\uff1f\uff01]*")


def _sentence_keys(text: str) -> list[str]:
    return [key for key in (squash(m.group()) for m in _SENTENCE_RE.finditer(text)) if key]


def _similar(key: str, other: str) -> bool:
    if not 0.7 * len(key) <= len(other) <= 1.3 * len(key):
        return False
    matcher = SequenceMatcher(None, key, other, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / len(key) >= _ECHO_SIMILARITY


def is_prompt_echo(text: str, prompt: str) -> bool:
    """True when a sentence of `text` is (nearly) a sentence of the prompt: Whisper copying its
    prompt instead of hearing the audio. Seen with the base model on the words after a
    committed sentence: it "hears" that sentence again, sometimes twice."""
    prompt_keys = _sentence_keys(prompt)
    for key in _sentence_keys(text):
        if len(key) < _MIN_ECHO_CHARS:
            continue
        if any(key == other or _similar(key, other) for other in prompt_keys):
            return True
    return False


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
    """
    keys = [squash(word) for word in words]
    keep = _ngram_keep_mask(keys, min_repeats, max_ngram)
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
