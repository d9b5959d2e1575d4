"""Recognition quality and cost: streamed vs whole-file WER/CER, loops, invented lines, CPU per
audio second, and (with --paced) caption lag at real-time pace beside busy processes.

    .venv/bin/python bench/asr_quality.py [--languages en,ko] [--cpu-hog K] [--json FILE]
    .venv/bin/python bench/asr_quality.py --paced --cpu-hog 1 [--languages en]

The set (`hearus_testkit/read_speech.py`) is made on the spot by espeak-ng: six public-domain
English passages read by five voices at 150-200 words a minute, and two Korean lecture passages in
espeak-ng's Korean voice (which Whisper finds hard: a check for loops, invented lines and cost,
not a measurement of Korean accuracy).

For every clip:
- whole file: `ml.offline.transcribe_whole` (the recording path);
- streamed: the clip fed to `ml.streaming.StreamingTranscriber` in 0.2 s chunks at real-time
  pace on a simulated clock (`ml.offline.stream_in_simulated_time`: no idle waiting, but the
  transcriber sees the lag it would see live on this machine, now) - the finals live viewers
  would get; the latency of each final on that clock is reported too.
Printed: pooled WER (English) / CER (Korean) over the set, process CPU seconds per audio second
(all threads: `time.process_time`), loops (`has_repetition_loop`) and invented lines
(`is_hallucination` per caption, known lines anywhere), output length vs reference length, and
what the filters dropped.

--cpu-hog K runs K processes that each burn one core beside the measurement (the simulated
clock then sees decodes as slow as they are under that load).

--paced streams the English passages back to back as one lecture at real-time pace (0.1 s
frames from a feeder thread; `process()` runs whenever audio is waiting, as the live consumer
does) beside K processes that each burn one core (`--cpu-hog K`), and prints the latency of each
final (the wall time it came out minus the wall time its audio ended), the lag the transcriber
reported, and the speech regions (Silero VAD on the input) that no final covers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/asr_quality.py`
    sys.path.insert(0, str(ROOT))

from bench.speech_coverage import speech_coverage  # noqa: E402
from hearus_testkit.cpu_hogs import cpu_hogs  # noqa: E402
from hearus_testkit.read_speech import (  # noqa: E402
    ENGLISH_PASSAGES,
    KOREAN_PASSAGES,
    KOREAN_VOCABULARY,
    Clip,
    make_clip,
)
from ml.asr import SAMPLE_RATE, WhisperEngine  # noqa: E402
from ml.caption_filters import has_repetition_loop, is_hallucination  # noqa: E402
from ml.error_rates import character_error_rate, edit_distance, normalize_text  # noqa: E402
from ml.offline import stream_in_simulated_time, transcribe_whole  # noqa: E402
from ml.streaming import FinalCaption, StreamingTranscriber  # noqa: E402
from ml.whisper_model import DEFAULT_MODEL_DIRNAME, prepare_whisper_model  # noqa: E402

SPEECH_DIR = ROOT / "var" / "bench" / "speech"
CHUNK_S = 0.2
KNOWN_LINES = (
    "이 영상은",
    "시청해 주셔서",
    "구독과 좋아요",
    "MBC 뉴스",
    "자막 제공",
    "thanks for watching",
    "subtitles by",
)


@dataclass
class Outcome:
    text: str = ""
    cpu_s: float = 0.0
    loops: int = 0
    invented: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def _units(text: str, language: str) -> list[str]:
    normalized = normalize_text(text)
    return list(normalized.replace(" ", "")) if language == "ko" else normalized.split()


def _judge(outcome: Outcome, captions: list[str]) -> None:
    outcome.text = " ".join(captions)
    outcome.loops = sum(has_repetition_loop(text) for text in captions)
    lowered = normalize_text(outcome.text)
    outcome.invented = sum(is_hallucination(text) for text in captions) + sum(
        lowered.count(normalize_text(line)) for line in KNOWN_LINES
    )


def whole(engine: WhisperEngine, clip: Clip, vocabulary: str) -> Outcome:
    outcome = Outcome()
    started = time.process_time()
    cues = transcribe_whole(engine, clip.audio, language=clip.passage.language)
    outcome.cpu_s = time.process_time() - started
    _judge(outcome, [cue.text for cue in cues])
    return outcome


def _stats(transcriber: StreamingTranscriber) -> dict[str, Any]:
    stats = transcriber.stats
    return {
        name: dict(value) if isinstance(value, dict) else value
        for name, value in vars(stats).items()
        if isinstance(value, int | float | dict | str) and not isinstance(value, bool)
    }


def streamed(engine: WhisperEngine, clip: Clip, vocabulary: str) -> Outcome:
    outcome = Outcome()
    transcriber = StreamingTranscriber(
        engine, language=clip.passage.language, vocabulary=vocabulary
    )
    started = time.process_time()
    timed = stream_in_simulated_time(transcriber, clip.audio, chunk_s=CHUNK_S)
    outcome.cpu_s = time.process_time() - started
    _judge(outcome, [final.text for _, final in timed])
    outcome.stats = _stats(transcriber)
    latencies = [max(0.0, at - final.end_ms / 1000) for at, final in timed]
    outcome.stats["latencies_s"] = [round(value, 2) for value in latencies]
    return outcome


def quality(engine: WhisperEngine, clips: list[Clip]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for language in sorted({clip.passage.language for clip in clips}):
        chosen = [clip for clip in clips if clip.passage.language == language]
        vocabulary = KOREAN_VOCABULARY if language == "ko" else ""
        rows = []
        for clip in chosen:
            row: dict[str, Any] = {"clip": clip.passage.name, "audio_s": clip.duration_s}
            for mode, run in (("whole", whole), ("streamed", streamed)):
                outcome = run(engine, clip, vocabulary)
                reference = _units(clip.passage.text, language)
                errors = edit_distance(reference, _units(outcome.text, language))
                row[mode] = {**asdict(outcome), "errors": errors, "reference_units": len(reference)}
            rows.append(row)
            print(
                f"  {clip.passage.name}: whole {row['whole']['errors']}/"
                f"{row['whole']['reference_units']}, streamed {row['streamed']['errors']}/"
                f"{row['streamed']['reference_units']}",
                flush=True,
            )
        results[language] = rows
    return results


def print_quality(results: dict[str, Any]) -> None:
    print()
    print(
        "| language | mode | audio s | error rate | CPU s / audio s | loops | invented "
        "| chars out / ref | dropped | latency p95 / max s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for language, rows in results.items():
        audio_s = sum(row["audio_s"] for row in rows)
        for mode in ("whole", "streamed"):
            errors = sum(row[mode]["errors"] for row in rows)
            units = sum(row[mode]["reference_units"] for row in rows)
            cpu = sum(row[mode]["cpu_s"] for row in rows)
            loops = sum(row[mode]["loops"] for row in rows)
            invented = sum(row[mode]["invented"] for row in rows)
            chars = sum(len(normalize_text(row[mode]["text"])) for row in rows)
            reference_chars = sum(
                len(normalize_text(p.text))
                for p in ENGLISH_PASSAGES + KOREAN_PASSAGES
                if p.name in {row["clip"] for row in rows}
            )
            dropped = sum(row[mode]["stats"].get("dropped_words", 0) for row in rows)
            metric = "CER" if language == "ko" else "WER"
            latencies = [v for row in rows for v in row[mode]["stats"].get("latencies_s", [])]
            latency = (
                f"{np.percentile(latencies, 95):.1f} / {max(latencies):.1f}" if latencies else "-"
            )
            print(
                f"| {language} | {mode} | {audio_s:.1f} | {metric} {errors / units:.1%} | "
                f"{cpu / audio_s:.2f} | {loops} | {invented} | {chars} / {reference_chars} | "
                f"{dropped if mode == 'streamed' else '-'} | {latency} |"
            )
    print()
    for language, rows in results.items():
        for row in rows:
            for mode in ("whole", "streamed"):
                print(f"[{language} {row['clip']} {mode}] {row[mode]['text']}")


# -- real-time pace beside busy processes ---------------------------------------------------------


def paced(engine: WhisperEngine, clips: list[Clip], hogs: int) -> dict[str, Any]:
    audio = np.concatenate([clip.audio for clip in clips])
    language = clips[0].passage.language
    transcriber = StreamingTranscriber(engine, language=language)
    frame = SAMPLE_RATE // 10
    arrived = threading.Event()
    done = threading.Event()
    t0 = time.perf_counter()

    def feed() -> None:
        for index, start in enumerate(range(0, audio.size, frame)):
            delay = t0 + index * 0.1 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            transcriber.insert_audio(audio[start : start + frame])
            arrived.set()
        done.set()
        arrived.set()

    feeder = threading.Thread(target=feed, daemon=True)
    received: list[tuple[float, FinalCaption]] = []
    lags: list[float] = []
    cpu_started = time.process_time()
    feeder.start()
    while not done.is_set():
        arrived.wait()
        arrived.clear()
        update = transcriber.process()
        now = time.perf_counter() - t0
        received += [(now, final) for final in update.finals]
        lags.append(float(getattr(update, "lag_s", float("nan"))))
    update = transcriber.finish()
    now = time.perf_counter() - t0
    received += [(now, final) for final in update.finals]
    cpu_s = time.process_time() - cpu_started
    latencies = [max(0.0, at - final.end_ms / 1000) for at, final in received]
    coverage = speech_coverage(
        audio, [(final.start_ms / 1000, final.end_ms / 1000) for _, final in received]
    )
    reference = " ".join(clip.passage.text for clip in clips)
    text = " ".join(final.text for _, final in received)
    from ml.error_rates import word_error_rate

    return {
        "hogs": hogs,
        "audio_s": audio.size / SAMPLE_RATE,
        "finals": len(received),
        "p50_s": float(np.percentile(latencies, 50)) if latencies else None,
        "p95_s": float(np.percentile(latencies, 95)) if latencies else None,
        "max_s": max(latencies) if latencies else None,
        "max_reported_lag_s": max(lags) if lags else None,
        "uncovered_speech_regions": coverage.uncovered,
        "speech_regions": coverage.speech_regions,
        "wer": word_error_rate(reference, text),
        "cpu_per_audio_s": cpu_s / (audio.size / SAMPLE_RATE),
        "stats": _stats(transcriber),
        "error_rate_cer": character_error_rate(reference, text) if language == "ko" else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--languages", default="en,ko", help="comma-separated: en, ko")
    parser.add_argument("--clips", default="", help="only these clip names (comma-separated)")
    parser.add_argument("--paced", action="store_true", help="real-time pace (lag), not quality")
    parser.add_argument("--cpu-hog", type=int, default=0, help="busy processes beside (--paced)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    languages = args.languages.split(",")
    passages = [p for p in ENGLISH_PASSAGES + KOREAN_PASSAGES if p.language in languages]
    if args.clips:
        passages = [p for p in passages if p.name in args.clips.split(",")]
    SPEECH_DIR.mkdir(parents=True, exist_ok=True)
    clips = [make_clip(passage, SPEECH_DIR) for passage in passages]
    model_dir = prepare_whisper_model(ROOT / "var" / "models" / DEFAULT_MODEL_DIRNAME)
    engine = WhisperEngine.load(model_dir)
    cpus = len(os.sched_getaffinity(0))
    print(
        f"{platform.machine()}, {cpus} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"{sum(c.duration_s for c in clips):.1f} s of audio in {len(clips)} clips",
        flush=True,
    )
    engine.transcribe(clips[0].audio[: 3 * SAMPLE_RATE], language=clips[0].passage.language)

    with cpu_hogs(args.cpu_hog):
        if args.paced:
            result: dict[str, Any] = paced(engine, clips, args.cpu_hog)
            print(json.dumps(result, indent=1, ensure_ascii=False))
        else:
            result = quality(engine, clips)
            print_quality(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
