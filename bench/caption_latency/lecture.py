"""The lecture the broadcasters stream: English sentences spoken by espeak-ng, with pauses, or
any audio file (`--audio FILE`, with `--reference TEXT_FILE` for what was said)."""

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.caption_latency import BENCH_DIR
from hearus_testkit.speech import pcm16, silence, synthesize, write_wav
from ml.asr import SAMPLE_RATE, FloatAudio
from ml.audio import read_wav
from ml.media import decode_media

FRAME_S = 0.1
FRAME_BYTES = round(SAMPLE_RATE * FRAME_S) * 2
LEAD_SILENCE_S = 0.5
TAIL_SILENCE_S = 1.5
PARAGRAPH_PAUSE_S = 0.8
SENTENCE_PAUSE_S = (0.3, 0.8)

# A lecture of four paragraphs, about a minute of espeak-ng speech with its pauses.
PARAGRAPHS: tuple[tuple[str, ...], ...] = (
    (
        "Good morning, everyone, and welcome back to the course.",
        "Today we continue our study of machine learning.",
        "Last week we talked about linear regression and the idea of a loss function.",
        "This week we will look at how a model actually learns from data.",
    ),
    (
        "The key idea is called gradient descent.",
        "We start with random weights and measure the error on the training set.",
        "Then we move each weight a small step in the direction that reduces the error.",
        "The size of that step is called the learning rate.",
    ),
    (
        "If the learning rate is too large, the model jumps around and never settles.",
        "If it is too small, training takes a very long time.",
        "A good learning rate usually lies somewhere between these two extremes.",
        "In practice we try a few values and compare the results on a validation set.",
    ),
    (
        "Next time we will discuss overfitting and how to prevent it.",
        "Please read chapter four before the next lecture.",
        "Thank you, and see you on Thursday.",
    ),
)


@dataclass(frozen=True)
class Sentence:
    text: str
    audio: FloatAudio
    onset_s: float  # where speech starts inside `audio` (espeak pads a little)
    pause_after_s: float


@dataclass(frozen=True)
class LectureAudio:
    rotation: int  # index of the sentence this lecture starts with
    pcm: bytes  # PCM16 little-endian, 16 kHz mono
    reference: str  # what was said ("" when unknown: no error rates, no words lost)
    first_onset_s: float  # stream time where the first word begins
    language: str = "en"
    description: str = "English lecture by espeak-ng"

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / SAMPLE_RATE


def _onset_s(audio: FloatAudio) -> float:
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    return float(loud[0]) / SAMPLE_RATE if loud.size else 0.0


def load_sentences(seed: int) -> list[Sentence]:
    """The lecture's sentences spoken by espeak-ng; the whole lecture is cached as one WAV."""
    texts = [text for paragraph in PARAGRAPHS for text in paragraph]
    key = hashlib.sha1(json.dumps([texts, seed]).encode()).hexdigest()[:12]
    wav_path = BENCH_DIR / f"lecture-en-{key}.wav"
    manifest_path = wav_path.with_suffix(".json")
    if not (wav_path.is_file() and manifest_path.is_file()):
        _build_lecture_wav(seed, wav_path, manifest_path)
    audio = read_wav(wav_path)
    manifest = json.loads(manifest_path.read_text())
    return [
        Sentence(
            text=item["text"],
            audio=audio[item["start"] : item["end"]],
            onset_s=item["onset_s"],
            pause_after_s=item["pause_after_s"],
        )
        for item in manifest["sentences"]
    ]


def _build_lecture_wav(seed: int, wav_path: Path, manifest_path: Path) -> None:
    speech_dir = BENCH_DIR / "speech"
    speech_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pieces: list[FloatAudio] = []
    items: list[dict[str, Any]] = []
    position = 0
    for p_index, paragraph in enumerate(PARAGRAPHS):
        for s_index, text in enumerate(paragraph):
            clip = synthesize(text, "en-us", speech_dir)
            last_of_paragraph = s_index == len(paragraph) - 1
            pause = PARAGRAPH_PAUSE_S if last_of_paragraph else rng.uniform(*SENTENCE_PAUSE_S)
            items.append(
                {
                    "text": text,
                    "paragraph": p_index,
                    "start": position,
                    "end": position + len(clip),
                    "onset_s": round(_onset_s(clip), 4),
                    "pause_after_s": round(pause, 3),
                }
            )
            pieces += [clip, silence(pause)]
            position += len(clip) + len(pieces[-1])
    write_wav(wav_path, np.concatenate(pieces))
    manifest_path.write_text(json.dumps({"seed": seed, "sentences": items}, indent=1))


def rotation_for(index: int, count: int, sentences: int) -> int:
    return round(index * sentences / count) % sentences


def lecture_audio(sentences: Sequence[Sentence], rotation: int) -> LectureAudio:
    """Leading silence, the sentences from `rotation` on (wrapping), each with its pause."""
    order = list(sentences[rotation:]) + list(sentences[:rotation])
    pieces: list[FloatAudio] = [silence(LEAD_SILENCE_S)]
    for index, sentence in enumerate(order):
        last = index == len(order) - 1
        pause = TAIL_SILENCE_S if last else sentence.pause_after_s
        pieces += [sentence.audio, silence(pause)]
    audio = np.concatenate(pieces)
    pcm = pcm16(audio)
    pcm += b"\x00" * (-len(pcm) % FRAME_BYTES)  # whole frames
    return LectureAudio(
        rotation=rotation,
        pcm=pcm,
        reference=" ".join(sentence.text for sentence in order),
        first_onset_s=LEAD_SILENCE_S + order[0].onset_s,
    )


def file_audio(path: Path, reference: str, language: str) -> LectureAudio:
    """Any audio or video file PyAV reads (`ml.media.decode_media`: 16 kHz mono), then the same
    tail of silence as the espeak lecture, so its last words can become final."""
    audio = np.concatenate([decode_media(path), silence(TAIL_SILENCE_S)])
    pcm = pcm16(audio)
    pcm += b"\x00" * (-len(pcm) % FRAME_BYTES)
    return LectureAudio(
        rotation=0,
        pcm=pcm,
        reference=reference,
        first_onset_s=_onset_s(audio),
        language=language,
        description=f"{path.name} ({language})",
    )
