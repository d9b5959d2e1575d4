"""What a shorter Whisper encoder window costs and saves in live transcription.

    cd /work/main && .venv/bin/python bench/encoder_window.py [--windows 30,20,15,10] [--json]

Both lectures are streamed through `ml.offline.transcribe_streaming` (the live path's
`StreamingTranscriber`, as fast as the CPU allows) once per window setting
(`DecodingOptions.min_encoder_window_s`, the server's `WHISPER_LIVE_ENCODER_WINDOW_S`):

- English: the minute of espeak-ng speech that `bench/caption_latency` streams (WER);
- Korean: ten lecture sentences spoken by espeak-ng's Korean voice (CER). Whisper base reads
  espeak's Korean badly (CER near 0.9 with the stock window), so this column is a check for
  loops and gross regressions, not an accuracy measurement.

For each window: the wall time of the whole stream and its ratio to the stock 30 s window
measured in the same run (this machine is shared: compare ratios, not seconds), the streamed
WER/CER, and how many transcriptions ran. The same model (int8, CPU threads as the server uses)
serves every setting; one warm-up stream runs first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/encoder_window.py`
    sys.path.insert(0, str(ROOT))

from bench.caption_latency import BENCH_DIR  # noqa: E402
from bench.caption_latency.lecture import lecture_audio, load_sentences  # noqa: E402
from hearus_testkit.engines import CountingEngine  # noqa: E402
from hearus_testkit.speech import synthesize  # noqa: E402
from ml.asr import SAMPLE_RATE, DecodingOptions, FloatAudio, WhisperEngine  # noqa: E402
from ml.audio import pcm16_to_float32  # noqa: E402
from ml.error_rates import character_error_rate, word_error_rate  # noqa: E402
from ml.offline import transcribe_streaming  # noqa: E402
from ml.whisper_model import DEFAULT_MODEL_DIRNAME, prepare_whisper_model  # noqa: E402

KOREAN_SENTENCES = (
    "안녕하세요, 여러분. 오늘은 인공지능 수업의 세 번째 시간입니다.",
    "지난 시간에는 선형 회귀와 손실 함수에 대해 배웠습니다.",
    "오늘은 모델이 데이터에서 어떻게 학습하는지 살펴보겠습니다.",
    "핵심 아이디어는 경사 하강법이라고 부릅니다.",
    "먼저 가중치를 무작위로 정하고 학습 데이터에서 오차를 측정합니다.",
    "그 다음 오차가 줄어드는 방향으로 가중치를 조금씩 움직입니다.",
    "이 움직임의 크기를 학습률이라고 합니다.",
    "학습률이 너무 크면 모델이 수렴하지 않고, 너무 작으면 시간이 오래 걸립니다.",
    "다음 시간에는 과적합에 대해 이야기하겠습니다.",
    "수고하셨습니다.",
)
KOREAN_VOCABULARY = "인공지능, 선형 회귀, 경사 하강법, 학습률, 과적합"
KOREAN_PAUSE_S = 0.6


def english_lecture() -> tuple[FloatAudio, str]:
    lecture = lecture_audio(load_sentences(7), 0)
    return pcm16_to_float32(lecture.pcm), lecture.reference


def korean_lecture() -> tuple[FloatAudio, str]:
    speech_dir = BENCH_DIR / "speech"
    speech_dir.mkdir(parents=True, exist_ok=True)
    pause = np.zeros(round(KOREAN_PAUSE_S * SAMPLE_RATE), np.float32)
    pieces = [np.zeros(SAMPLE_RATE // 2, np.float32)]
    for sentence in KOREAN_SENTENCES:
        pieces += [synthesize(sentence, "ko", speech_dir), pause]
    return np.concatenate(pieces), " ".join(KOREAN_SENTENCES)


def measure(
    engine: WhisperEngine, window_s: float, lectures: dict[str, tuple[FloatAudio, str]]
) -> dict[str, Any]:
    windowed = CountingEngine(
        WhisperEngine(engine.model, DecodingOptions(min_encoder_window_s=window_s))
    )
    result: dict[str, Any] = {"window_s": window_s}
    for language, (audio, reference) in lectures.items():
        windowed.calls = 0
        vocabulary = KOREAN_VOCABULARY if language == "ko" else ""
        started = time.perf_counter()
        cues = transcribe_streaming(windowed, audio, language=language, vocabulary=vocabulary)
        elapsed = time.perf_counter() - started
        text = " ".join(cue.text for cue in cues)
        error = (character_error_rate if language == "ko" else word_error_rate)(reference, text)
        result[language] = {
            "seconds": round(elapsed, 2),
            "error_rate": round(error, 4),
            "transcriptions": windowed.calls,
            "text": text,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", default="30,20,15,10", help="seconds, 30 first")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    windows = [float(value) for value in args.windows.split(",")]
    if windows[0] != 30:
        windows.insert(0, 30.0)

    model_dir = prepare_whisper_model(ROOT / "var" / "models" / DEFAULT_MODEL_DIRNAME)
    engine = WhisperEngine.load(model_dir)
    lectures = {"en": english_lecture(), "ko": korean_lecture()}
    durations = {language: audio.size / SAMPLE_RATE for language, (audio, _) in lectures.items()}
    cpus = len(os.sched_getaffinity(0))
    print(
        f"{platform.machine()}, {cpus} CPUs; English {durations['en']:.1f} s, "
        f"Korean {durations['ko']:.1f} s of audio"
    )
    measure(engine, 30.0, {"en": lectures["en"]})  # warm-up

    results = [measure(engine, window, lectures) for window in windows]
    stock = results[0]
    print()
    print(
        "| encoder window | English s | x stock | English WER | Korean s | x stock | Korean CER "
        "| transcriptions en / ko |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        en, ko = result["en"], result["ko"]
        print(
            f"| {result['window_s']:g} s | {en['seconds']:.1f} | "
            f"{en['seconds'] / stock['en']['seconds']:.2f} | {en['error_rate']:.1%} | "
            f"{ko['seconds']:.1f} | {ko['seconds'] / stock['ko']['seconds']:.2f} | "
            f"{ko['error_rate']:.1%} | {en['transcriptions']} / {ko['transcriptions']} |"
        )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
