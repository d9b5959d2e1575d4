"""`manage.py train_summarizer [--data aclsum,sadedegel[,aihub:PATH]] [--head lstm|linear]
[--epochs N] [--seed N] [--out PATH]`: train the summary head on frozen encoder vectors.

The encoder is SUMMARIZER_ENCODER's (multilingual-e5-small by default). Training data: aclsum
(English) and sadedegel (Turkish), fetched once as wheels into --cache-dir, plus optional
AI Hub/Dacon Korean jsonl (`aihub:/path/train.jsonl`). Sentence vectors are cached there too, so
a rerun only trains the head. See ml.summary_training and docs/summarizer-model.md.
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
from ml.summarizer import HEAD_KINDS, save_head
from ml.summary_data import DataUnavailable
from ml.summary_training import encode_documents, load_training_data, train_head


def default_cache_dir() -> Path:
    return Path(settings.BASE_DIR) / "var" / "summary-data"


def default_head_path(kind: str) -> Path:
    return Path(settings.BASE_DIR) / "ml" / "weights" / f"summarizer-{kind}.safetensors"


class Command(BaseCommand):
    help = "Train the extractive summary head (BiLSTM or linear) on frozen sentence vectors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            default="aclsum,sadedegel",
            help="comma-separated: aclsum, sadedegel, aihub:PATH (default aclsum,sadedegel)",
        )
        parser.add_argument("--head", default="lstm", choices=HEAD_KINDS)
        parser.add_argument("--epochs", type=int, default=30)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--hidden", type=int, default=128, help="LSTM units per direction")
        parser.add_argument("--out", type=Path, default=None, help="default ml/weights/...")
        parser.add_argument("--cache-dir", type=Path, default=None, help="default var/summary-data")

    def handle(self, *args: Any, **options: Any) -> None:
        import torch

        kind: str = options["head"]
        if kind not in HEAD_KINDS:
            raise CommandError(f"--head must be one of {', '.join(HEAD_KINDS)}")
        if options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        sources = [s.strip() for s in str(options["data"]).split(",") if s.strip()]
        cache_dir: Path = options["cache_dir"] or default_cache_dir()
        out: Path = options["out"] or default_head_path(kind)
        torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
        try:
            folder = resolve_summarizer_encoder(
                settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR
            )
            encoder = get_encoder(folder)
            train, validation = load_training_data(sources, cache_dir)
        except (EncoderAssemblyError, EncoderNotFoundError, DataUnavailable, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{len(train)} training and {len(validation)} validation documents from "
            f"{', '.join(sources)}; encoder {folder}"
        )
        train_vectors = encode_documents(train, encoder, cache_dir)
        validation_vectors = encode_documents(validation, encoder, cache_dir)
        head, report = train_head(
            train,
            train_vectors,
            validation,
            validation_vectors,
            kind="lstm" if kind == "lstm" else "linear",
            epochs=options["epochs"],
            seed=options["seed"],
            hidden=options["hidden"],
            log=self.stdout.write,
        )
        save_head(
            head,
            out,
            {
                "encoder": folder.name,
                "data": ",".join(s.partition(":")[0] for s in sources),
                "seed": str(report.seed),
                "epochs": str(report.epochs),
                "best_epoch": str(report.best_epoch),
                "validation_loss": f"{report.best_validation_loss:.4f}",
            },
        )
        self.stdout.write(
            f"{kind} head: {report.parameters:,} parameters, best epoch {report.best_epoch} "
            f"(validation loss {report.best_validation_loss:.4f}), {report.seconds:.1f} s; "
            f"saved {out} ({out.stat().st_size / 1e6:.2f} MB)"
        )
