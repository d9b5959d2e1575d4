"""A scripted Whisper and a simple speech detector, for streaming-policy tests.

`ScriptedEngine` plays a Whisper that hears a scripted "truth": each call returns the scripted
words that lie inside the audio it was given, timed relative to that audio, like the real one.
`energy_detector` calls anything louder than 0.01 speech.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.asr import SAMPLE_RATE, FloatAudio, TranscribedSegment, TranscribedWord
from ml.streaming import StreamingTranscriber

Word = tuple[float, float, str]  # stream seconds
Script = list[list[Word]]  # segments of words


def words(text: str, *, start: float, step: float = 0.4, length: float = 0.3) -> list[Word]:
    return [
        (start + i * step, start + i * step + length, f" {token}")
        for i, token in enumerate(text.split())
    ]


@dataclass
class Call:
    offset_s: float
    duration_s: float
    language: str
    prompt: str | None


class ScriptedEngine:
    """`probability(word)`: how sure this Whisper is of a word it hears (0.9 by default)."""

    def __init__(
        self,
        script: Script | Callable[[int], Script],
        probability: Callable[[str], float] = lambda _word: 0.9,
    ) -> None:
        self.script = script
        self.probability = probability
        self.calls: list[Call] = []
        self.transcriber: StreamingTranscriber | None = None

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        assert self.transcriber is not None
        offset = self.transcriber.buffer_start_s
        duration = len(audio) / SAMPLE_RATE
        script = self.script(len(self.calls)) if callable(self.script) else self.script
        self.calls.append(Call(offset, duration, language, prompt))
        segments = []
        for segment in script:
            heard = [w for w in segment if w[0] >= offset - 0.05 and w[1] <= offset + duration]
            if heard:
                segments.append(
                    TranscribedSegment(
                        start=heard[0][0] - offset,
                        end=heard[-1][1] - offset,
                        text="".join(w[2] for w in heard),
                        words=tuple(
                            TranscribedWord(s - offset, e - offset, text, self.probability(text))
                            for s, e, text in heard
                        ),
                        no_speech_prob=0.1,
                        avg_logprob=-0.2,
                    )
                )
        return segments


def energy_detector(audio: FloatAudio, end_of_speech_s: float = 0.6) -> list[tuple[int, int]]:
    """Speech wherever the signal is loud; a region closes after `end_of_speech_s` of quiet."""
    frame = 160
    loud = [bool(np.abs(audio[i : i + frame]).max() > 0.01) for i in range(0, len(audio), frame)]
    regions: list[tuple[int, int]] = []
    start: int | None = None
    quiet = 0
    gap = round(end_of_speech_s * SAMPLE_RATE / frame)
    for index, is_loud in enumerate(loud):
        if is_loud:
            if start is None:
                start = index
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= gap:
                regions.append((start * frame, (index - quiet + 1) * frame))
                start, quiet = None, 0
    if start is not None:
        regions.append((start * frame, len(audio)))
    return regions
