"""The command line: `python -m bench.caption_latency --instructors 1,2 --viewers 1,500 ...`."""

import argparse
import asyncio
import datetime
import json
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench.caption_latency import BENCH_DIR
from bench.caption_latency.baseline import asr_call_costs, transcribe_offline
from bench.caption_latency.database import (
    Database,
    check_redis_url,
    drop_scratch_database,
    flush_redis,
    prepare_database,
    server_environment,
    setup_django,
)
from bench.caption_latency.fixtures import LecturePlan, create_lectures
from bench.caption_latency.lecture import Sentence, lecture_audio, load_sentences, rotation_for
from bench.caption_latency.machine import hardware, raise_fd_limit, wait_for_quiet
from bench.caption_latency.measure import Measurement, measure
from bench.caption_latency.report import (
    Report,
    latency_table,
    markdown_block,
    print_report,
    update_markdown,
)
from bench.caption_latency.results import ConfigResult, summarize
from bench.caption_latency.server import Server, daphne_server
from hearus_testkit import ROOT

COMMAND = "python -m bench.caption_latency"
# Server settings a run may be given through the environment; named in the reported command.
REPORTED_SETTINGS = ("WHISPER_LIVE_ENCODER_WINDOW_S", "WHISPER_MODEL", "CHANNEL_LAYER")


def _counts(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1,2,4; got {text!r}")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Final-caption latency of the live caption path through a real Daphne.",
    )
    parser.add_argument("--instructors", type=_counts, default=[1], help="N values, e.g. 1,2,4")
    parser.add_argument(
        "--viewers", type=_counts, default=[1], help="M viewers per lecture, e.g. 1,100,500"
    )
    parser.add_argument("--database-url", help="postgres://.../hearus_bench (default: SQLite)")
    parser.add_argument("--redis-url", help="redis://127.0.0.1:6379/9 for the channel layer")
    parser.add_argument("--url", help="a running server (http://host:port) instead of a fresh one")
    parser.add_argument("--server-pid", type=int, help="with --url: the server's pid, for CPU")
    parser.add_argument("--compare-offline", action="store_true", help="WER vs whole-file ASR")
    parser.add_argument("--markdown", action="store_true", help="update the results table")
    parser.add_argument("--markdown-file", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--label", help="block name in the markdown (default: from the setup)")
    parser.add_argument(
        "--from-json", type=Path, help="render a saved var/bench/results-*.json; run nothing"
    )
    parser.add_argument("--seed", type=int, default=7, help="pause lengths of the lecture audio")
    parser.add_argument("--settle-timeout", type=float, default=30.0, help="s after `stopped`")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="before each configuration, wait up to this many s for other load to drop",
    )
    parser.add_argument(
        "--quiet-threshold", type=float, default=30.0, help="'quiet': %% of one core busy"
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        help="run a configuration again (up to this many times) when other processes used "
        "more than the quiet threshold during it; the least disturbed run is reported",
    )
    args = parser.parse_args(argv)
    if args.url and not args.database_url:
        parser.error("--url needs --database-url (the server's database)")
    if args.redis_url:
        check_redis_url(args.redis_url)
    return args


def server_settings_prefix() -> str:
    """`NAME=value ` for each reported setting set in this environment (the server inherits it)."""
    return "".join(
        f"{name}={shlex.quote(os.environ[name])} "
        for name in REPORTED_SETTINGS
        if os.environ.get(name)
    )


def setup_name(database: Database, redis_url: str | None, external: bool) -> tuple[str, str]:
    db = "PostgreSQL" if database.kind == "postgres" else "SQLite"
    layer = "Redis channel layer" if redis_url else "in-memory channel layer"
    server = "external server" if external else "one Daphne process"
    label = ("postgres" if database.kind == "postgres" else "sqlite") + (
        "-redis" if redis_url else "-memory"
    )
    if label == "sqlite-memory":
        label = "embedded"
    if external:  # never overwrite the blocks of self-started servers
        label += "-external"
    return f"{db} + {layer}, {server}", label


def run(args: argparse.Namespace) -> int:
    run_id = datetime.datetime.now().strftime("%m%d%H%M%S")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    raise_fd_limit(4 * max(args.instructors) * max(args.viewers) + 1024)
    sentences = load_sentences(args.seed)
    own_server = not args.url
    database = prepare_database(args.database_url, own_server=own_server, run_id=run_id)
    setup, default_label = setup_name(database, args.redis_url, not own_server)
    if args.redis_url and own_server:
        flush_redis(args.redis_url)
    try:
        setup_django(database.url, args.redis_url)
        results = run_configurations(args, run_id, setup, sentences, database)
        offline = call_costs = None
        if args.compare_offline:
            call_costs = asr_call_costs(sentences)
            rotations = [rotation for result in results for rotation in result.rotations]
            offline = transcribe_offline(sentences, rotations)
    finally:
        drop_scratch_database(database)
        if args.redis_url and own_server:
            flush_redis(args.redis_url)

    report = Report(
        setup=setup,
        label=args.label or default_label,
        command=server_settings_prefix() + f"{COMMAND} " + shlex.join(sys.argv[1:]),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        hardware=hardware(),
        results=results,
        offline=offline,
        call_costs=call_costs,
    )
    out = BENCH_DIR / f"results-{report.label}-{run_id}.json"
    report.save(out)
    print_report(report)
    print(f"details: {out.relative_to(ROOT)}")
    _write_markdown(args, report)
    return 0


def run_configurations(
    args: argparse.Namespace,
    run_id: str,
    setup: str,
    sentences: Sequence[Sentence],
    database: Database,
) -> list[ConfigResult]:
    """Every N x M; a configuration disturbed by other load runs again (`--retry-busy`)."""
    results: list[ConfigResult] = []
    for instructors in args.instructors:
        for viewers in args.viewers:
            attempts: list[ConfigResult] = []
            for attempt in range(1 + args.retry_busy):
                result = run_configuration(
                    args, run_id, setup, sentences, instructors, viewers, database, attempt
                )
                print(latency_table([result]), flush=True)
                attempts.append(result)
                if result.other_cpu_pct < args.quiet_threshold:
                    break
                print(f"  other load {result.other_cpu_pct:.0f}% of a core: again", flush=True)
            # the run least disturbed by other processes
            results.append(min(attempts, key=lambda r: r.other_cpu_pct))
    return results


def render(args: argparse.Namespace) -> int:
    """`--from-json`: print (and with --markdown, write) a saved report without running."""
    report = Report.load(args.from_json)
    if args.label:
        report.label = args.label
    print_report(report)
    _write_markdown(args, report)
    return 0


def _write_markdown(args: argparse.Namespace, report: Report) -> None:
    if args.markdown:
        update_markdown(args.markdown_file, report.label, markdown_block(report))
        print(f"updated {args.markdown_file}")


def run_configuration(
    args: argparse.Namespace,
    run_id: str,
    setup: str,
    sentences: Sequence[Sentence],
    instructors: int,
    viewers: int,
    database: Database,
    attempt: int = 0,
) -> ConfigResult:
    suffix = f"-a{attempt}" if attempt else ""
    tag = f"b{run_id}n{instructors}m{viewers}{suffix}"
    audios = [
        lecture_audio(sentences, rotation_for(index, instructors, len(sentences)))
        for index in range(instructors)
    ]
    plans = create_lectures(tag, audios, viewers)
    own_server = not args.url
    warm_plan = create_lectures(f"{tag}w", audios[:1], 0)[0] if own_server else None
    print(
        f"{setup}: N={instructors} x M={viewers}, {audios[0].duration_s:.1f} s of audio ...",
        flush=True,
    )
    waited, busy = wait_for_quiet(args.quiet_wait, args.quiet_threshold)
    print(f"  started after {waited:.0f} s; other load {busy:.0f}% of a core", flush=True)
    if own_server:
        log_path = BENCH_DIR / f"daphne-{run_id}-n{instructors}-m{viewers}{suffix}.log"
        env = server_environment(database.url, args.redis_url)
        with daphne_server(env, log_path) as server:
            measurement = asyncio.run(measure(server, plans, warm_plan, args.settle_timeout))
    else:
        server = Server(url=args.url.rstrip("/"), pid=args.server_pid, log_path=None)
        measurement = asyncio.run(measure(server, plans, None, args.settle_timeout))
    raw_path = BENCH_DIR / f"raw-{run_id}-n{instructors}-m{viewers}{suffix}.json"
    write_raw(raw_path, plans, measurement)
    return summarize(setup, plans, viewers, measurement, server, waited)


def write_raw(path: Path, plans: Sequence[LecturePlan], measurement: Measurement) -> None:
    """Every receipt, for a second look: times in s from that lecture's t0."""
    lectures = []
    for index, plan in enumerate(plans):
        broadcast = measurement.broadcasts[index]
        lectures.append(
            {
                "lecture_id": plan.lecture_id,
                "rotation": plan.audio.rotation,
                "broadcast": asdict(broadcast),
                "stored": [
                    [s.seq, s.start_ms, s.end_ms, round(s.created_at - broadcast.t0_wall, 4)]
                    for s in measurement.stored[plan.lecture_id]
                ],
                "viewers_seq_arrival_firstdisplay": [
                    [
                        [
                            r.seq,
                            round(r.arrival - broadcast.t0, 4),
                            round(r.first_display - broadcast.t0, 4),
                        ]
                        for r in log.receipts
                    ]
                    for log in measurement.viewers
                    if log.lecture_index == index
                ],
            }
        )
    path.write_text(json.dumps({"lectures": lectures}))


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanup: server stopped, db dropped


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    return render(args) if args.from_json else run(args)
