"""`manage.py keywords FILE [--top N] [--analyzer kiwi|okt]`: keywords of a transcript, by the
function the lecture notes use (`ml.keywords.extract_keywords`).

FILE is a WebVTT, SRT or SBV caption file, or plain text where each non-empty line is one caption
segment (its seq is the line number); the analyser splits captions into sentences itself.
Prints rank, keyword, score, count and the time the keyword is first said.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.keywords import extract_keywords
from ml.korean import ANALYZER_NAMES, AnalyzerUnavailable
from ml.lecture_notes import read_captions
from ml.subtitles import reading_clock


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * max(columns - _width(text), 0)


class Command(BaseCommand):
    help = (
        "Print the keywords of a caption file (VTT, SRT, SBV) or transcript (one caption a line)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="UTF-8 text file, one caption segment per line")
        parser.add_argument("--top", type=int, default=10, help="how many keywords (default 10)")
        parser.add_argument(
            "--analyzer",
            default="kiwi",
            choices=ANALYZER_NAMES,
            help="Korean morphological analyser (default kiwi; okt needs Java)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        analyzer: str = options["analyzer"]
        top: int = options["top"]
        if analyzer not in ANALYZER_NAMES:  # call_command(..., analyzer=...) skips argparse
            raise CommandError(
                f"Unknown analyzer {analyzer!r}: choose one of {', '.join(ANALYZER_NAMES)}"
            )
        if top < 1:
            raise CommandError(f"--top must be at least 1 (got {top})")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            captions = read_captions(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path} as UTF-8 text: {error}") from error
        segments = [(caption.seq, caption.text) for caption in captions]
        starts = {caption.seq: caption.start_ms for caption in captions}
        try:
            keywords = extract_keywords(segments, analyzer=analyzer, top=top)
        except AnalyzerUnavailable as error:
            raise CommandError(str(error)) from error
        if not keywords:
            self.stdout.write("No keywords found.")
            return
        columns = max(_width("keyword"), *(_width(k.text) for k in keywords))
        self.stdout.write(
            f"{'rank':>4}  {_pad('keyword', columns)}  {'score':>6}  {'count':>5}  {'first':>8}"
        )
        for rank, keyword in enumerate(keywords, 1):
            text = _pad(keyword.text, columns)
            first = reading_clock(starts[keyword.occurrences[0].seq])
            self.stdout.write(
                f"{rank:>4}  {text}  {keyword.score:>6.3f}  {keyword.count:>5}  {first:>8}"
            )
