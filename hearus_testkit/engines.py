"""Wrappers around the real Whisper engine."""

import time

from ml.asr import FloatAudio, SpeechRecognizer, TranscribedSegment, WhisperEngine


class CountingEngine:
    """Wraps a real engine and counts its calls (to prove VAD kept silence away from it, or to
    report how many transcriptions a stream needed)."""

    def __init__(self, inner: WhisperEngine) -> None:
        self.inner = inner
        self.calls = 0

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        self.calls += 1
        return self.inner.transcribe(
            audio, language=language, prompt=prompt, beam_size=beam_size, fast=fast
        )


class SlowEngine:
    """The real Whisper on a machine that is too busy: each call takes `extra_s` longer, so a
    live lecture really falls behind its speech (and its lag is really measured)."""

    def __init__(self, inner: SpeechRecognizer, extra_s: float) -> None:
        self.inner = inner
        self.extra_s = extra_s

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        time.sleep(self.extra_s)
        return self.inner.transcribe(
            audio, language=language, prompt=prompt, beam_size=beam_size, fast=fast
        )
