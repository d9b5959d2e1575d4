"""Keyword extraction speed and memory: Kiwi and Okt on the synthetic 1,200-sentence lecture.

    cd /work/main && .venv/bin/python bench/keywords_speed.py [--sentences 1200] [--repeat 3]

Each analyser runs in a fresh child process (an Okt JVM can never be stopped, and peak memory must
be that analyser's alone), which measures:
- import: importing ml.keywords (networkx, scipy) and the analyser's package;
- start-up: `Analyzer.load()`, which loads the model and analyses one short sentence (Kiwi's
  model tables fill in on first use; Okt's JVM starts and its dictionaries load);
- extraction: `extract_keywords(lecture, top=10)` on the loaded analyser, first run (JIT and
  caches cold) and the best of `--repeat` later runs;
- peak memory: the child's maximum resident set size (resource.getrusage, Linux KiB) after the
  imports, after start-up and at the end; for Okt this includes the JVM (konlpy starts it with
  -Xmx1024m).
The lecture is the tests' synthetic one (hearus_testkit/texts.py): about 40 Korean lecture
sentences on AI, machine learning and search, recombined at random (seed 0) into caption segments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/keywords_speed.py`
    sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(analyzer_name: str, sentences: int, repeat: int) -> dict[str, Any]:
    """Run in the child process: time import, start-up and extraction of one analyser."""
    started = time.perf_counter()
    from ml.keywords import extract_keywords
    from ml.korean import get_analyzer

    if analyzer_name == "kiwi":
        import kiwipiepy  # type: ignore[import-untyped]  # noqa: F401
    else:
        import konlpy  # type: ignore[import-untyped]  # noqa: F401
    imported = time.perf_counter()
    rss_imported = peak_rss_mib()
    analyzer = get_analyzer(analyzer_name)
    analyzer.load()
    loaded = time.perf_counter()
    rss_loaded = peak_rss_mib()

    from hearus_testkit.texts import synthetic_lecture

    lecture = synthetic_lecture(sentences)
    counted = sum(len(analyzer.sentences(text)) for _, text in lecture)

    first_start = time.perf_counter()
    keywords = extract_keywords(lecture, analyzer=analyzer, top=10)
    first = time.perf_counter() - first_start
    later: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = extract_keywords(lecture, analyzer=analyzer, top=10)
        later.append(time.perf_counter() - start)
        assert again == keywords, "extraction is not deterministic"
    return {
        "analyzer": analyzer_name,
        "segments": len(lecture),
        "sentences_requested": sentences,
        "sentences_found": counted,
        "characters": sum(len(text) for _, text in lecture),
        "import_s": round(imported - started, 3),
        "startup_s": round(loaded - imported, 3),
        "extract_first_s": round(first, 3),
        "extract_best_s": round(min(later), 3) if later else None,
        "peak_rss_imported_mib": rss_imported,
        "peak_rss_loaded_mib": rss_loaded,
        "peak_rss_mib": peak_rss_mib(),
        "top10": [[k.text, k.score, k.count] for k in keywords],
    }


def run_child(analyzer_name: str, sentences: int, repeat: int) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        analyzer_name,
        "--sentences",
        str(sentences),
        "--repeat",
        str(repeat),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"analyzer": analyzer_name, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "",
        "| analyzer | import s | start-up s | extract 1st s | extract best s "
        "| peak RSS MiB: imported / loaded / end |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['analyzer']} | failed: {r['error']} | | | | |")
            continue
        lines.append(
            f"| {r['analyzer']} | {r['import_s']} | {r['startup_s']} | {r['extract_first_s']} "
            f"| {r['extract_best_s']} | {r['peak_rss_imported_mib']} / "
            f"{r['peak_rss_loaded_mib']} / {r['peak_rss_mib']} |"
        )
    for r in results:
        if "error" in r:
            continue
        lines += [
            "",
            f"{r['analyzer']}: {r['segments']} segments, {r['sentences_found']} sentences found "
            f"({r['sentences_requested']} made), {r['characters']} characters. Top 10:",
        ]
        lines += [
            f"  {rank:>2}. {text} ({score:.3f}, {count}x)"
            for rank, (text, score, count) in enumerate(r["top10"], 1)
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sentences", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--analyzers", default="kiwi,okt")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.sentences, args.repeat), ensure_ascii=False))
        return
    results = [
        run_child(name.strip(), args.sentences, args.repeat) for name in args.analyzers.split(",")
    ]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(report(results))


if __name__ == "__main__":
    main()
