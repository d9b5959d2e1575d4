"""The process's speech recognizer, configured from settings (the only Django-aware ASR code)."""

import threading

from django.conf import settings

from ml.asr import DecodingOptions, WhisperEngine
from ml.whisper_model import resolve_whisper_model

_engine: WhisperEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> WhisperEngine:
    """One Whisper model per process, shared by every lecture; loaded on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            model_path = resolve_whisper_model(settings.WHISPER_MODEL, settings.MODEL_CACHE_DIR)
            _engine = WhisperEngine.load(
                model_path,
                device=settings.WHISPER_DEVICE,
                compute_type=settings.WHISPER_COMPUTE_TYPE,
                options=DecodingOptions(
                    min_encoder_window_s=settings.WHISPER_LIVE_ENCODER_WINDOW_S
                ),
            )
        return _engine
