"""Streaming with the real Whisper base model on espeak-ng speech, fed in small chunks."""

import itertools
import re

import numpy as np
import pytest

from hearus_testkit.engines import CountingEngine
from hearus_testkit.speech import Speech, silence
from ml.asr import SAMPLE_RATE, FloatAudio, WhisperEngine
from ml.caption_filters import has_repetition_loop, is_hallucination
from ml.error_rates import normalize_text, word_error_rate
from ml.streaming import FinalCaption, StreamingTranscriber

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LEADING_SILENCE_S = 1.5


def stream(
    transcriber: StreamingTranscriber, audio: FloatAudio, chunk_s: float
) -> tuple[list[FinalCaption], list[str]]:
    chunk = round(chunk_s * SAMPLE_RATE)
    finals: list[FinalCaption] = []
    partials: list[str] = []
    for index in range(0, len(audio), chunk):
        transcriber.insert_audio(audio[index : index + chunk])
        update = transcriber.process()
        finals += update.finals
        partials.append(update.partial)
    finals += transcriber.finish().finals
    return finals, partials


def assert_well_ordered(finals: list[FinalCaption], duration_s: float) -> None:
    for caption in finals:
        assert 0 <= caption.start_ms <= caption.end_ms <= duration_s * 1000 + 100
    for before, after in itertools.pairwise(finals):
        assert before.end_ms <= after.start_ms, f"{before} overlaps {after}"
        assert before.start_ms < after.start_ms


def test_english_stream_matches_the_whole_file_accuracy(
    engine: WhisperEngine, english_speech: Speech
) -> None:
    audio = np.concatenate([silence(LEADING_SILENCE_S), english_speech.audio, silence(1.0)])
    transcriber = StreamingTranscriber(engine, language="en", vocabulary=["linear regression"])
    finals, partials = stream(transcriber, audio, chunk_s=0.16)

    text = " ".join(caption.text for caption in finals)
    wer = word_error_rate(english_speech.text, text)
    print(f"\nEnglish stream: WER {wer:.3f}, RTF {transcriber.stats.real_time_factor:.2f}")
    for caption in finals:
        print(f"  {caption.start_ms:>6} {caption.end_ms:>6}  {caption.text}")
    assert wer < 0.15
    assert len(finals) >= 2  # sentence by sentence, not one block at the end

    assert_well_ordered(finals, len(audio) / SAMPLE_RATE)
    # Stream time, not buffer time: speech starts after the leading silence.
    assert LEADING_SILENCE_S - 0.4 <= finals[0].start_ms / 1000 <= LEADING_SILENCE_S + 0.8
    speech_end_s = LEADING_SILENCE_S + english_speech.duration_s
    assert speech_end_s - 1.5 <= finals[-1].end_ms / 1000 <= speech_end_s + 0.3

    # No word duplicated where one caption meets the next (inside one, "and and" can be what
    # Whisper heard: espeak's "and then" on some CPUs' int8 kernels).
    for before, after in itertools.pairwise(finals):
        last, first = (
            normalize_text(before.text).split()[-1:],
            normalize_text(after.text).split()[:1],
        )
        assert last != first, f"duplicated at a caption boundary: {before} / {after}"
    # No caption repeated (Whisper copying its prompt instead of hearing the audio).
    keys = [normalize_text(caption.text) for caption in finals]
    assert len(keys) == len(set(keys)), keys
    assert not any(has_repetition_loop(partial) for partial in partials)


def test_korean_stream_gives_hangul_without_loops(
    engine: WhisperEngine, korean_speech: Speech
) -> None:
    transcriber = StreamingTranscriber(engine, language="ko", vocabulary="인공지능, 선형 회귀")
    finals, partials = stream(transcriber, korean_speech.audio, chunk_s=0.2)
    print("\nKorean stream:")
    for caption in finals:
        print(f"  {caption.start_ms:>6} {caption.end_ms:>6}  {caption.text}")
    assert finals
    assert HANGUL.search(" ".join(caption.text for caption in finals))
    for caption in finals:
        assert not has_repetition_loop(caption.text), caption.text
        assert not is_hallucination(caption.text), caption.text
    assert not any(has_repetition_loop(partial) for partial in partials)
    assert_well_ordered(finals, korean_speech.duration_s)


@pytest.mark.parametrize("noise_level", [0.0, 0.003, 0.01])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_silence_and_low_noise_give_no_caption(
    counting_engine: CountingEngine, noise_level: float, language: str
) -> None:
    noise = np.random.default_rng(7).standard_normal(5 * SAMPLE_RATE) * noise_level
    transcriber = StreamingTranscriber(counting_engine, language=language)
    finals, partials = stream(transcriber, noise.astype(np.float32), chunk_s=0.16)
    assert finals == []
    assert set(partials) == {""}
    # VAD kept it from Whisper, which would have "heard" something ("you", "이 영상은").
    assert counting_engine.calls == 0
