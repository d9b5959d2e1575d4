"""Caption exports: WebVTT, SubRip (SRT), plain text and JSON from timed cues.

The writers take any objects with `start_ms`, `end_ms` and `text` (a `Cue`, a live
`FinalCaption`, a stored transcript segment) and prepare them the same way for every format:
- text: Unicode NFC, every run of white space (line breaks included) folded into one space,
  trimmed; cues left without text are dropped (a blank line would end a VTT/SRT cue early);
- order: sorted by start time (stable, so equal starts keep their order);
- times: negative starts become 0 and every cue lasts at least 1 ms (both formats require the
  end after the start).
VTT and SRT cue text is wrapped into lines of at most `max_line_chars` characters (42 by
default, the common subtitle guideline), counted as Unicode characters so a Hangul syllable is
one; lines are balanced ("aaaa bbbb" not "aaaaaaa b"), broken at spaces, and a word longer than
a line (unspaced CJK text, a URL) is cut. Plain text and JSON keep each cue's text on one line.

Output uses "\n" line endings (no CR), is UTF-8-ready `str`, and ends with a newline unless it is
empty (plain text and SRT of no cues are ""; VTT of no cues is just the header).
"""

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MAX_LINE_CHARS = 42
MIN_CUE_MS = 1


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


class CueLike(Protocol):
    """Anything timed with a text: `Cue`, `ml.streaming.FinalCaption`, a transcript row."""

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def text(self) -> str: ...


def clean_text(text: str) -> str:
    """NFC text on one line: white space runs (newlines, tabs...) become one space; trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def prepare_cues(cues: Iterable[CueLike]) -> list[Cue]:
    """What every writer outputs: clean text, no empty cues, sorted, valid times (module doc)."""
    prepared: list[Cue] = []
    for cue in cues:
        text = clean_text(cue.text)
        if not text:
            continue
        start_ms = max(0, int(cue.start_ms))
        end_ms = max(int(cue.end_ms), start_ms + MIN_CUE_MS)
        prepared.append(Cue(start_ms=start_ms, end_ms=end_ms, text=text))
    prepared.sort(key=lambda cue: cue.start_ms)
    return prepared


# -- timestamps -----------------------------------------------------------------------------------


def _clock(milliseconds: int) -> tuple[int, int, int, int]:
    seconds, millis = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return hours, minutes, seconds, millis


def reading_clock(milliseconds: int) -> str:
    """H:MM:SS, or M:SS under an hour: a transcript's timestamps as its readers see them."""
    seconds = max(0, milliseconds) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def vtt_timestamp(milliseconds: int) -> str:
    """`HH:MM:SS.mmm` (hours grow past two digits when needed)."""
    hours, minutes, seconds, millis = _clock(milliseconds)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def srt_timestamp(milliseconds: int) -> str:
    """`HH:MM:SS,mmm`."""
    hours, minutes, seconds, millis = _clock(milliseconds)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"


# -- line wrapping --------------------------------------------------------------------------------


def _pieces(text: str, width: int) -> list[str]:
    """Words of `text`, any longer than `width` cut into `width`-character pieces."""
    pieces: list[str] = []
    for word in text.split(" "):
        pieces += [word[i : i + width] for i in range(0, len(word), width)] or [word]
    return pieces


def _greedy(pieces: list[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len(line) + 1 + len(piece) <= width:
            line += " " + piece
        else:
            if line:
                lines.append(line)
            line = piece
    if line:
        lines.append(line)
    return lines


def wrap_lines(text: str, max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> list[str]:
    """`text` (cleaned) in as few lines of at most `max_line_chars` characters as possible,
    balanced: the narrowest width that needs no more lines than a greedy fill is used."""
    if max_line_chars < 1:
        raise ValueError("max_line_chars must be at least 1")
    text = clean_text(text)
    if not text:
        return []
    pieces = _pieces(text, max_line_chars)
    lines = _greedy(pieces, max_line_chars)
    if len(lines) == 1:
        return lines
    # Binary search for the narrowest width with the same number of lines.
    low = max(max(len(piece) for piece in pieces), math.ceil(len(text) / len(lines)))
    high = max_line_chars
    while low < high:
        middle = (low + high) // 2
        if len(_greedy(pieces, middle)) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return _greedy(pieces, high)


def escape_vtt_text(text: str) -> str:
    """Cue text as WebVTT wants it: `&`, `<` and `>` as character references, so a `<` never
    opens a tag and `-->` never appears inside a cue."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- subtitle conventions -------------------------------------------------------------------------

# Subtitles, as players show them over a video: at most two lines a cue, a line a reader takes
# in at a glance, on screen long enough to read and never so long that it lingers. The numbers
# follow broadcast and streaming style guides (e.g. Netflix's timed-text guides: 42 characters
# a line for Latin script, 16 for Korean, at most 2 lines, 5/6 s to 7 s a subtitle). A Hangul
# syllable is about twice as wide as a Latin letter and carries a whole syllable, so 16 of them
# hold about as much as 35-42 Latin characters.
SUBTITLE_MAX_LINES = 2
SUBTITLE_LATIN_LINE_CHARS = 42
SUBTITLE_HANGUL_LINE_CHARS = 16
SUBTITLE_MIN_MS = 1000
SUBTITLE_MAX_MS = 7000


def line_width_for(text: str) -> int:
    """Characters per subtitle line for `text`: the Hangul width when at least a third of its
    letters are Hangul (Korean with English terms in it), the Latin width otherwise."""
    letters = [ch for ch in text if ch.isalpha()]
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3")
    if letters and hangul * 3 >= len(letters):
        return SUBTITLE_HANGUL_LINE_CHARS
    return SUBTITLE_LATIN_LINE_CHARS


def _chunks(text: str, width: int) -> list[str]:
    """`text` cut at spaces into pieces that each wrap into at most SUBTITLE_MAX_LINES lines
    (a single word too long for that, such as a URL, stays whole on its own)."""
    chunks: list[str] = []
    current: list[str] = []
    for piece in text.split(" "):
        trial = " ".join([*current, piece])
        if current and len(wrap_lines(trial, width)) > SUBTITLE_MAX_LINES:
            chunks.append(" ".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        chunks.append(" ".join(current))
    return chunks


def subtitle_cues(cues: Iterable[CueLike]) -> list[Cue]:
    """Cues as subtitles (see the constants above): a long caption becomes several cues cut at
    word boundaries, each at most two lines; its time is shared by their lengths; no cue lasts
    over SUBTITLE_MAX_MS, and a short one is held to SUBTITLE_MIN_MS where the next cue leaves
    room. Write them with `max_line_chars=None` so each is wrapped at its own script's width."""
    pieces: list[Cue] = []
    for cue in prepare_cues(cues):
        chunks = _chunks(cue.text, line_width_for(cue.text))
        total = sum(len(chunk) for chunk in chunks)
        start = cue.start_ms
        span = cue.end_ms - cue.start_ms
        for index, chunk in enumerate(chunks):
            end = (
                cue.end_ms
                if index == len(chunks) - 1
                else start + max(1, round(span * len(chunk) / total))
            )
            pieces.append(Cue(start_ms=start, end_ms=end, text=chunk))
            start = end
    timed: list[Cue] = []
    for index, cue in enumerate(pieces):
        following = pieces[index + 1].start_ms if index + 1 < len(pieces) else None
        end = min(cue.end_ms, cue.start_ms + SUBTITLE_MAX_MS)
        if end - cue.start_ms < SUBTITLE_MIN_MS:
            wanted = cue.start_ms + SUBTITLE_MIN_MS
            end = max(end, wanted if following is None else min(wanted, following))
        timed.append(Cue(start_ms=cue.start_ms, end_ms=end, text=cue.text))
    return timed


# -- formats --------------------------------------------------------------------------------------


def to_vtt(cues: Iterable[CueLike], *, max_line_chars: int | None = DEFAULT_MAX_LINE_CHARS) -> str:
    """A WebVTT file: the `WEBVTT` header, then one block per cue. `max_line_chars=None`
    wraps each cue at its script's subtitle width (`line_width_for`)."""
    blocks = ["WEBVTT"]
    for cue in prepare_cues(cues):
        width = max_line_chars or line_width_for(cue.text)
        lines = [escape_vtt_text(line) for line in wrap_lines(cue.text, width)]
        timing = f"{vtt_timestamp(cue.start_ms)} --> {vtt_timestamp(cue.end_ms)}"
        blocks.append("\n".join([timing, *lines]))
    return "\n\n".join(blocks) + "\n"


def to_srt(cues: Iterable[CueLike], *, max_line_chars: int | None = DEFAULT_MAX_LINE_CHARS) -> str:
    """A SubRip file: blocks numbered from 1. SRT has no escaping: the text is written as it is
    (parsers look for a whole timing line, so `-->` in a sentence is safe; players that read
    `<i>` as markup would read a literal `<i>` in speech that way too)."""
    blocks: list[str] = []
    for index, cue in enumerate(prepare_cues(cues), start=1):
        lines = wrap_lines(cue.text, max_line_chars or line_width_for(cue.text))
        timing = f"{srt_timestamp(cue.start_ms)} --> {srt_timestamp(cue.end_ms)}"
        blocks.append("\n".join([str(index), timing, *lines]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_text(cues: Iterable[CueLike]) -> str:
    """The transcript: each cue's text on a line of its own, no times."""
    return "".join(f"{cue.text}\n" for cue in prepare_cues(cues))


def to_json(cues: Iterable[CueLike], *, indent: int | None = 2) -> str:
    """A JSON list of `{"start_ms", "end_ms", "text"}` objects (UTF-8 text, not \\u escapes)."""
    data = [
        {"start_ms": cue.start_ms, "end_ms": cue.end_ms, "text": cue.text}
        for cue in prepare_cues(cues)
    ]
    return json.dumps(data, ensure_ascii=False, indent=indent) + "\n"


# -- reading caption files ------------------------------------------------------------------------

# "00:01:02.500", "01:02,500", "0:00:09.730" (SBV): hours optional, "," or "." before milliseconds.
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIMING = re.compile(rf"^\s*{_TIME}\s*(?:-->|,)\s*{_TIME}")
_MARKUP = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # WebVTT/SRT tags (<i>, <c.x>, <00:01.000>), ASS codes
_SBV_BREAK = re.compile(r"\[br\]", re.IGNORECASE)


class CaptionFileError(ValueError):
    """A caption file that is neither WebVTT, SubRip nor SBV, or has no timed cue."""


def _milliseconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> int:
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)) * 1000 + int(
        fraction.ljust(3, "0")
    )


def parse_captions(text: str) -> list[Cue]:
    """Timed cues of a WebVTT, SubRip (SRT) or YouTube SBV file, in file order: a cue is a timing
    line ("start --> end", or SBV's "start,end") and the text lines up to the next blank line;
    SRT's numbers, VTT's header, NOTE/STYLE blocks and cue settings are skipped, tags removed,
    SBV's "[br]" read as a line break. Raises `CaptionFileError` when no cue is found."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    cues: list[Cue] = []
    index = 0
    while index < len(lines):
        match = _CUE_TIMING.match(lines[index])
        index += 1
        if match is None:
            continue
        start = _milliseconds(*match.groups()[:4])
        end = _milliseconds(*match.groups()[4:])
        body: list[str] = []
        while index < len(lines) and lines[index].strip():
            if _CUE_TIMING.match(lines[index]):
                break  # a cue without a blank line before the next one
            body.append(lines[index])
            index += 1
        words = clean_text(_MARKUP.sub("", _SBV_BREAK.sub(" ", " ".join(body))))
        if words:
            cues.append(Cue(start_ms=start, end_ms=max(end, start + MIN_CUE_MS), text=words))
    if not cues:
        raise CaptionFileError("no timed cue found: not a WebVTT, SRT or SBV caption file")
    return cues
