"""The process's sentence encoder for the notes, and the trained summarizer, built from settings
once (the encoder and head load lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from ml.encoder import get_encoder, resolve_summarizer_encoder
from ml.lecture_notes import Encode
from ml.summarizer import SummarySentence, get_summarizer

NOTES_METHODS = ("terms", "e5")


def notes_encoder() -> Encode | None:
    """What `ml.lecture_notes.build_notes` compares sentences with: None for their terms
    (NOTES_METHOD=terms, the default), the e5 encoder for NOTES_METHOD=e5."""
    if settings.NOTES_METHOD == "terms":
        return None
    if settings.NOTES_METHOD != "e5":
        raise ValueError(
            f"NOTES_METHOD={settings.NOTES_METHOD!r}: choose one of {', '.join(NOTES_METHODS)}"
        )
    folder = resolve_summarizer_encoder(settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR)
    return get_encoder(folder).encode


def summarize_texts(
    texts: Sequence[str], max_sentences: int | None = None
) -> tuple[str, list[SummarySentence]]:
    """The trained head's summary of sentences (the seed's BERT + LSTM method, kept for
    `manage.py summarize --method model` and the evaluation)."""
    if not texts:
        return "model", []
    encoder = resolve_summarizer_encoder(settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR)
    summarizer = get_summarizer(encoder, Path(settings.SUMMARIZER_HEAD))
    return "model", summarizer.summarize(texts, max_sentences=max_sentences)
