"""`manage.py evaluate_summarizer [--data kobill|pyconkr|spoken|aclsum-test] [--spoken-dir DIR]
[--sentences 3] [--markdown]`: ROUGE-1/2/L (F1 on Kiwi morphemes, mean with a 95% bootstrap
interval) of LEAD-3, TextRank over encoder cosine, textrankr, the notes pipeline (terms; e5), the
encoder with the linear head, the encoder with the BiLSTM head, and the greedy oracle, side by
side; and how often (over bootstrap resamples) each beats LEAD on ROUGE-L.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classroom.management.commands.train_summarizer import default_cache_dir, default_head_path
from ml.encoder import (
    EncoderAssemblyError,
    EncoderNotFoundError,
    get_encoder,
    resolve_summarizer_encoder,
)
from ml.summarizer import SummaryHead, load_head
from ml.summary_data import DataUnavailable
from ml.summary_training import (
    encode_documents,
    evaluate_methods,
    load_evaluation_data,
    markdown_table,
    text_table,
)


class Command(BaseCommand):
    help = "Score the summarizers and baselines with ROUGE on Korean bills or spoken Korean."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data", default="kobill", choices=("kobill", "pyconkr", "spoken", "aclsum-test")
        )
        parser.add_argument(
            "--spoken-dir",
            type=Path,
            default=None,
            help="folder with the spoken talks' subtitle files (a clone of dharma-qna)",
        )
        parser.add_argument("--sentences", type=int, default=3, help="sentences per summary")
        parser.add_argument("--linear-head", type=Path, default=None)
        parser.add_argument("--lstm-head", type=Path, default=None)
        parser.add_argument("--cache-dir", type=Path, default=None)
        parser.add_argument("--markdown", action="store_true", help="print a Markdown table")

    def handle(self, *args: Any, **options: Any) -> None:
        import torch

        if options["sentences"] < 1:
            raise CommandError("--sentences must be at least 1")
        cache_dir: Path = options["cache_dir"] or default_cache_dir()
        torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
        heads: dict[str, SummaryHead] = {}
        for kind, label in (("linear", "e5 + linear head"), ("lstm", "e5 + BiLSTM head")):
            path: Path = options[f"{kind}_head"] or default_head_path(kind)
            try:
                heads[label], _ = load_head(path)
            except (FileNotFoundError, ValueError) as error:
                raise CommandError(str(error)) from error
        try:
            folder = resolve_summarizer_encoder(
                settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR
            )
            encoder = get_encoder(folder)
            documents = load_evaluation_data(options["data"], cache_dir, options["spoken_dir"])
        except (EncoderAssemblyError, EncoderNotFoundError, DataUnavailable) as error:
            raise CommandError(str(error)) from error
        vectors = encode_documents(documents, encoder, cache_dir)
        rows = evaluate_methods(documents, vectors, heads, k=options["sentences"])
        self.stdout.write(
            f"{options['data']}: {len(documents)} documents, {options['sentences']} sentences "
            "per summary, ROUGE F1 (%) on Kiwi morphemes, mean [95% bootstrap interval]"
        )
        self.stdout.write(markdown_table(rows) if options["markdown"] else text_table(rows))
