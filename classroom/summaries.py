"""The process's summarizer, built from settings once (the encoder and head load lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from ml.encoder import resolve_summarizer_encoder
from ml.summarizer import SummarySentence, get_summarizer


def summarize_texts(
    texts: Sequence[str], max_sentences: int | None = None
) -> tuple[str, list[SummarySentence]]:
    """The summary of a lecture's sentences with the configured encoder and head: the method
    name stored with it, and the chosen sentences in lecture order."""
    if not texts:
        return "model", []
    encoder = resolve_summarizer_encoder(settings.SUMMARIZER_ENCODER, settings.MODEL_CACHE_DIR)
    summarizer = get_summarizer(encoder, Path(settings.SUMMARIZER_HEAD))
    return "model", summarizer.summarize(texts, max_sentences=max_sentences)
