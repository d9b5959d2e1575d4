from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.encoder import EncoderAssemblyError, EncoderNotFoundError, resolve_summarizer_encoder
from ml.whisper_model import ModelAssemblyError, ModelNotFoundError, resolve_whisper_model


class Command(BaseCommand):
    help = (
        "Assemble (once) and verify the speech model named by WHISPER_MODEL, or the default "
        "Whisper base from its PyPI packages into MODEL_CACHE_DIR; likewise the summary encoder "
        "named by SUMMARIZER_ENCODER, or the default multilingual-e5-small. Never downloads "
        "anything."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = resolve_whisper_model(settings.WHISPER_MODEL, settings.MODEL_CACHE_DIR)
        except (ModelAssemblyError, ModelNotFoundError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Whisper model ready: {folder}")
        try:
            encoder = resolve_summarizer_encoder(
                settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR
            )
        except (EncoderAssemblyError, EncoderNotFoundError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Summary encoder ready: {encoder}")
        head = Path(settings.SUMMARIZER_HEAD)
        if not head.is_file():
            raise CommandError(f"SUMMARIZER_HEAD={head} does not exist")
        self.stdout.write(f"Summary head: {head}")
