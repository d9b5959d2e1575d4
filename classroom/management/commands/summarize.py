"""`manage.py summarize FILE.txt [--sentences N] [--method model|lead|textrank]`: the extractive
summary of a transcript. The text is split into sentences by Kiwi (ml.korean); the summary
sentences are printed in order, each with its position and score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.encoder import (
    EncoderAssemblyError,
    EncoderNotFoundError,
    get_encoder,
    resolve_summarizer_encoder,
)
from ml.summarizer import (
    SummarySentence,
    get_summarizer,
    lead_summary,
    summary_length,
    textrank_summary,
)
from ml.summary_data import split_sentences

METHODS = ("model", "lead", "textrank")


class Command(BaseCommand):
    help = "Print the extractive summary of a UTF-8 transcript file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="UTF-8 text file (a transcript)")
        parser.add_argument("--sentences", type=int, default=None, help="default: grows with n")
        parser.add_argument("--method", default="model", choices=METHODS)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        method: str = options["method"]
        wanted: int | None = options["sentences"]
        if method not in METHODS:
            raise CommandError(f"--method must be one of {', '.join(METHODS)}")
        if wanted is not None and wanted < 1:
            raise CommandError(f"--sentences must be at least 1 (got {wanted})")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path} as UTF-8 text: {error}") from error
        sentences = split_sentences(text)
        if not sentences:
            self.stdout.write("No sentences found.")
            return
        n = summary_length(len(sentences)) if wanted is None else wanted
        summary: list[SummarySentence]
        if method == "lead":
            summary = lead_summary(sentences, n)
        else:
            try:
                folder = resolve_summarizer_encoder(
                    settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR
                )
            except (EncoderAssemblyError, EncoderNotFoundError) as error:
                raise CommandError(str(error)) from error
            if method == "textrank":
                vectors = get_encoder(folder).encode(sentences)
                summary = textrank_summary(sentences, n, vectors)
            else:
                head = Path(settings.SUMMARIZER_HEAD)
                try:
                    summary = get_summarizer(folder, head).summarize(sentences, n)
                except (FileNotFoundError, ValueError) as error:
                    raise CommandError(str(error)) from error
        self.stdout.write(f"{len(summary)} of {len(sentences)} sentences ({method}):")
        width = len(str(len(sentences)))
        for item in summary:
            self.stdout.write(f"{item.index + 1:>{width}}  {item.score:6.3f}  {item.text}")
