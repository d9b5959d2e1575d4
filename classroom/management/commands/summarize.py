"""`manage.py summarize FILE [--sentences N] [--method notes|model|lead|textrank]`: the notes of
a transcript, by the same pipeline the lecture notes use (`ml.lecture_notes.build_notes`).

FILE is a WebVTT, SRT or SBV caption file (times kept) or plain UTF-8 text (each non-empty line
one caption, without times). The captions are joined and split into sentences as the notes do.
`--method notes` (the default) prints the sections (time, title, their lines), the whole
summary with each line's time, and the keywords; `model` (the trained BiLSTM head), `lead` and
`textrank` print only the summary sentences they choose, for comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classroom.summary_models import notes_encoder
from ml.encoder import (
    EncoderAssemblyError,
    EncoderNotFoundError,
    get_encoder,
    resolve_summarizer_encoder,
)
from ml.lecture_notes import (
    Caption,
    LectureNotes,
    build_notes,
    caption_sentences,
    read_captions,
    summary_length,
)
from ml.subtitles import reading_clock
from ml.summarizer import SummarySentence, get_summarizer, lead_summary, textrank_summary

METHODS = ("notes", "model", "lead", "textrank")


def read_transcript(path: Path) -> list[Caption]:
    """The captions of a caption file or a plain-text transcript (CommandError if unreadable)."""
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {path} as UTF-8 text: {error}") from error
    return read_captions(text)


class Command(BaseCommand):
    help = "Print the notes (sections, summary, keywords) of a caption file or transcript."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="WebVTT/SRT/SBV caption file, or UTF-8 text")
        parser.add_argument("--sentences", type=int, default=None, help="default: grows with n")
        parser.add_argument("--method", default="notes", choices=METHODS)

    def handle(self, *args: Any, **options: Any) -> None:
        method: str = options["method"]
        wanted: int | None = options["sentences"]
        if method not in METHODS:
            raise CommandError(f"--method must be one of {', '.join(METHODS)}")
        if wanted is not None and wanted < 1:
            raise CommandError(f"--sentences must be at least 1 (got {wanted})")
        captions = read_transcript(Path(options["file"]))
        sentences = caption_sentences(captions)
        if not sentences:
            self.stdout.write("No sentences found.")
            return
        try:
            if method == "notes":
                notes = build_notes(
                    captions,
                    notes_encoder(),
                    analyzer=settings.KEYWORD_ANALYZER,
                    top_keywords=settings.KEYWORD_COUNT,
                    max_summary=wanted,
                )
                self._print_notes(notes)
                return
            texts = [s.text for s in sentences]
            n = summary_length(len(texts)) if wanted is None else wanted
            summary: list[SummarySentence]
            if method == "lead":
                summary = lead_summary(texts, n)
            else:
                folder = resolve_summarizer_encoder(
                    settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR
                )
                if method == "textrank":
                    summary = textrank_summary(texts, n, get_encoder(folder).encode(texts))
                else:
                    summarizer = get_summarizer(folder, Path(settings.SUMMARIZER_HEAD))
                    summary = summarizer.summarize(texts, n)
        except (EncoderAssemblyError, EncoderNotFoundError, FileNotFoundError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{len(summary)} of {len(texts)} sentences ({method}):")
        for item in summary:
            clock = reading_clock(sentences[item.index].start_ms)
            self.stdout.write(f"{clock:>8}  {item.score:6.3f}  {item.text}")

    def _print_notes(self, notes: LectureNotes) -> None:
        write = self.stdout.write
        write(
            f"{len(notes.sentences)} sentences, {len(notes.sections)} sections, "
            f"{len(notes.summary)} summary lines (notes)"
        )
        write("")
        write("Sections:")
        for number, section in enumerate(notes.sections, 1):
            write(f"{number:>3}. {reading_clock(section.start_ms):>8}  {section.title}")
            for line in section.summary:
                clock = reading_clock(notes.sentences[line.sentences[0]].start_ms)
                write(f"       {clock:>8}  {notes.line_text(line)}")
        write("")
        write("Summary:")
        for line in notes.summary:
            clock = reading_clock(notes.sentences[line.sentences[0]].start_ms)
            write(f"{clock:>8}  {line.score:6.3f}  {notes.line_text(line)}")
        write("")
        write("Keywords: " + ", ".join(f"{k.text} ({k.count})" for k in notes.keywords))
