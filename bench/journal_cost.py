"""What keeping a lecture's audio costs: the live journal (append every 100 ms frame, fsync and
acknowledge every second) and the join into one Ogg Opus file when the lecture ends.

    .venv/bin/python -m bench.journal_cost [--minutes 10]

Speech is espeak-ng reading the benchmark texts, looped to the length asked; the figures are
scaled to a lecture hour. Results in docs/benchmarks.md ("Audio journal").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import django
import numpy as np


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hearus-journal-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")
    os.environ["LECTURE_AUDIO_ROOT"] = str(folder)
    django.setup()

    from captions import journal
    from hearus_testkit.speech import synthesize
    from hearus_testkit.texts import ENGLISH_TEXT, KOREAN_TEXT
    from lectures.audio import kept_audio
    from ml.asr import SAMPLE_RATE
    from ml.media import decode_media

    speech = np.concatenate(
        [synthesize(ENGLISH_TEXT, "en-us", folder), synthesize(KOREAN_TEXT, "ko", folder)]
    )
    samples = round(args.minutes * 60 * SAMPLE_RATE)
    looped = np.resize(speech, samples)
    pcm = (np.clip(looped, -1, 1) * 32767).astype("<i2").tobytes()
    frame = SAMPLE_RATE // 10 * 2  # 100 ms, what the broadcast page sends

    writer = journal.JournalWriter(1, start_sample=0, language="en")
    started, wall = cpu_s(), time.perf_counter()
    synced_at = 0
    for offset in range(0, len(pcm), frame):
        writer.append(pcm[offset : offset + frame])
        if offset - synced_at >= SAMPLE_RATE * 2:  # one second of audio
            writer.sync()
            synced_at = offset
    writer.sync()
    journal_cpu, journal_wall = cpu_s() - started, time.perf_counter() - wall
    raw_bytes = writer.path.stat().st_size
    writer.close(transcribed=True)

    started, wall = cpu_s(), time.perf_counter()
    journal.keep_lecture_audio(1)
    join_cpu, join_wall = cpu_s() - started, time.perf_counter() - wall
    kept = kept_audio(1)
    assert kept is not None
    kept_bytes = kept.stat().st_size
    seconds = decode_media(kept).size / SAMPLE_RATE

    shutil.rmtree(folder, ignore_errors=True)
    hours = args.minutes / 60
    print(f"audio: {args.minutes:.1f} min of espeak speech (English and Korean, looped)")
    print(
        f"journal while live: {journal_cpu:.2f} CPU s ({journal_cpu / hours:.1f} a lecture hour), "
        f"{journal_wall:.2f} s wall; raw {raw_bytes / 1e6:.1f} MB "
        f"({raw_bytes / 1e6 / hours:.0f} MB a lecture hour)"
    )
    print(
        f"join at the end: {join_cpu:.2f} CPU s ({join_cpu / hours:.1f} a lecture hour), "
        f"{join_wall:.2f} s wall; kept file {kept_bytes / 1e6:.2f} MB "
        f"({kept_bytes / 1e6 / hours:.1f} MB a lecture hour), {seconds:.1f} s long"
    )


if __name__ == "__main__":
    main()
