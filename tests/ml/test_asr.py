"""The ASR engine: decoding options, one shared model, the ASR thread, real accuracy."""

import asyncio
import itertools
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ml.asr as asr
from hearus_testkit.speech import Speech
from ml.asr import (
    DecodingOptions,
    WhisperEngine,
    WindowedWhisperModel,
    load_whisper_model,
    run_in_asr_thread,
)
from ml.error_rates import character_error_rate, word_error_rate

HANGUL = re.compile(r"[\uac00-\ud7a3]")
THAI = re.compile(r"[\u0e00-\u0e7f]")


class RecordingModel:
    """Stands in for faster_whisper.WhisperModel and records what it was asked."""

    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}
        self.hf_tokenizer = self

    def encode(self, text: str, add_special_tokens: bool = True) -> Any:
        class Encoded:
            ids = list(range(len(text.split())))

        return Encoded()

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[list[Any], None]:
        self.kwargs = kwargs
        return [], None


def test_decoding_is_greedy_forced_language_with_word_times() -> None:
    model = RecordingModel()
    WhisperEngine(model).transcribe(np.zeros(16000, np.float32), language="ko", prompt="선형 회귀")
    options = model.kwargs
    assert options["language"] == "ko"  # never auto-detected
    assert options["beam_size"] == 1
    assert options["temperature"] == 0.0  # one temperature: no fallback
    assert options["condition_on_previous_text"] is False
    assert options["word_timestamps"] is True
    assert options["no_speech_threshold"] is None  # the stock 0.6 drops synthetic Korean
    assert options["vad_filter"] is False  # VAD runs in the streaming layer
    assert options["initial_prompt"] == "선형 회귀"
    assert 0 < options["max_new_tokens"] <= 448 - 4


def test_empty_audio_is_not_sent_to_the_model() -> None:
    model = RecordingModel()
    assert WhisperEngine(model).transcribe(np.zeros(0, np.float32), language="en") == []
    assert model.kwargs == {}


def test_model_is_loaded_once_per_process_even_from_racing_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    constructed: list[dict[str, Any]] = []

    class SlowModel:
        def __init__(self, path: str, **kwargs: Any) -> None:
            time.sleep(0.05)  # wide window for a second thread to slip in
            constructed.append({"path": path, **kwargs})

    monkeypatch.setattr(asr, "WindowedWhisperModel", SlowModel)
    monkeypatch.setattr(asr, "_models", {})
    (tmp_path / "model.bin").write_bytes(b"x")
    loaded: list[object] = []

    def load() -> None:
        loaded.append(load_whisper_model(tmp_path, cpu_threads=2))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(constructed) == 1
    assert all(model is loaded[0] for model in loaded)
    assert constructed[0]["compute_type"] == "int8" and constructed[0]["device"] == "cpu"
    assert constructed[0]["local_files_only"] is True
    # Other settings are another model.
    load_whisper_model(tmp_path, compute_type="float32", cpu_threads=2)
    assert len(constructed) == 2


def test_loading_a_folder_without_a_model_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a CTranslate2 Whisper folder"):
        load_whisper_model(tmp_path)


def test_inference_calls_queue_on_one_asr_thread() -> None:
    running = 0
    most_at_once = 0
    threads: set[str] = set()
    lock = threading.Lock()

    def inference(duration: float) -> str:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        threads.add(threading.current_thread().name)
        time.sleep(duration)
        with lock:
            running -= 1
        return "done"

    async def lectures() -> list[str]:
        return list(await asyncio.gather(*(run_in_asr_thread(inference, 0.02) for _ in range(5))))

    assert asyncio.run(lectures()) == ["done"] * 5
    assert most_at_once == 1
    assert len(threads) == 1 and next(iter(threads)).startswith("hearus-asr")


# -- the real model ----------------------------------------------------------------------------


def test_engine_instances_share_the_process_model(model_dir: Path, engine: WhisperEngine) -> None:
    assert WhisperEngine.load(model_dir).model is engine.model


def test_english_whole_file_word_error_rate(
    engine: WhisperEngine, english_speech: Speech, record_property: Any
) -> None:
    started = time.perf_counter()
    segments = engine.transcribe(english_speech.audio, language="en", prompt=None)
    real_time_factor = (time.perf_counter() - started) / english_speech.duration_s
    text = " ".join(segment.text for segment in segments)
    wer = word_error_rate(english_speech.text, text)
    record_property("wer", wer)
    record_property("rtf", real_time_factor)
    print(f"\nEnglish whole file: WER {wer:.3f}, RTF {real_time_factor:.3f}: {text!r}")
    assert wer < 0.15  # speed is measured in bench/ (a timing assert fails on a busy machine)
    words = [word for segment in segments for word in segment.words]
    assert words and all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= english_speech.duration_s + 0.1


def test_korean_forced_language_gives_hangul(engine: WhisperEngine, korean_speech: Speech) -> None:
    # espeak's Korean is detected as Thai when the language is not forced.
    segments = engine.transcribe(korean_speech.audio[: 16000 * 5], language="ko", prompt=None)
    text = " ".join(segment.text for segment in segments)
    print(f"\nKorean first 5 s: CER {character_error_rate(korean_speech.text, text):.2f}: {text}")
    assert HANGUL.search(text)
    assert not THAI.search(text)


def test_encoder_window_is_whispers_30_s_unless_set_shorter() -> None:
    stock = DecodingOptions()
    assert all(stock.encoder_frames(seconds) is None for seconds in (0.5, 8.0, 27.9, 40.0))
    short = DecodingOptions(min_encoder_window_s=10.0, encoder_padding_s=2.0)
    assert short.encoder_frames(3.0) == 1000  # the 10 s minimum
    assert short.encoder_frames(9.55) == 1156  # audio + 2 s, an even number of frames
    assert short.encoder_frames(28.5) is None  # would reach 30 s anyway


def test_a_fast_english_decode_encodes_a_15_s_window_and_never_more_than_the_set_one() -> None:
    stock = DecodingOptions()
    assert stock.encoder_frames(8.0, fast=True, language="en") == 1500  # behind: at most 8 s
    assert stock.encoder_frames(14.0, fast=True, language="en") == 1600  # audio + 2 s past 15 s
    short = DecodingOptions(min_encoder_window_s=10.0)
    assert short.encoder_frames(3.0, fast=True, language="en") == 1000  # a shorter one stands


def test_a_fast_korean_decode_keeps_the_stock_window() -> None:
    # Not shown harmless on Korean (docs/benchmarks.md, "fast decodes when behind").
    assert DecodingOptions().encoder_frames(8.0, fast=True, language="ko") is None


def test_a_shorter_encoder_window_applies_to_its_own_thread_only(engine: WhisperEngine) -> None:
    model = engine.model
    assert isinstance(model, WindowedWhisperModel)
    features = np.zeros((80, 3000), np.float32)
    seen: list[tuple[int, ...]] = []

    def encode_elsewhere() -> None:
        seen.append(tuple(model.encode(features).shape))

    with model.encoder_window(1000):
        inside = tuple(model.encode(features).shape)
        other = threading.Thread(target=encode_elsewhere)
        other.start()
        other.join()
    after = tuple(model.encode(features).shape)
    assert inside[1] == 500  # the encoder halves the frames
    assert seen[0][1] == after[1] == 1500  # the whole window


def test_english_with_a_20_s_encoder_window(engine: WhisperEngine, english_speech: Speech) -> None:
    windowed = WhisperEngine(engine.model, DecodingOptions(min_encoder_window_s=20.0))
    assert windowed.options.encoder_frames(english_speech.duration_s) is not None
    segments = windowed.transcribe(english_speech.audio, language="en", prompt=None)
    words = [word for segment in segments for word in segment.words]
    wer = word_error_rate(english_speech.text, " ".join(segment.text for segment in segments))
    print(f"\nEnglish, 20 s encoder window: WER {wer:.3f}")
    assert wer < 0.15
    assert words[-1].end <= english_speech.duration_s + 0.1  # times stay on the audio's clock


def test_accurate_decodes_use_beam_search_within_the_same_token_budget() -> None:
    model = RecordingModel()
    engine = WhisperEngine(model)
    engine.transcribe(np.zeros(4 * 16000, np.float32), language="en", prompt=None, beam_size=5)
    options = model.kwargs
    assert options["beam_size"] == 5
    assert options["temperature"] == 0.0  # still no fallback
    # A loop is cut at twice what speech needs: 12 tokens a second (+24), not Whisper's 448.
    assert options["max_new_tokens"] == engine.token_budget(4.0) == 12 * 4 + 24
