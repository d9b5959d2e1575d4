"""The command line: `python -m bench.caption_latency --instructors 1,2 --viewers 1,500 ...`."""

import argparse
import asyncio
import datetime
import json
import os
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
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
from bench.caption_latency.lecture import (
    LectureAudio,
    file_audio,
    lecture_audio,
    load_sentences,
    rotation_for,
)
from bench.caption_latency.machine import hardware, raise_fd_limit, wait_for_quiet
from bench.caption_latency.measure import Measurement, measure
from bench.caption_latency.report import (
    Report,
    latency_table,
    load_table,
    markdown_block,
    print_report,
    update_markdown,
)
from bench.caption_latency.results import ConfigResult, summarize
from bench.caption_latency.server import Server, daphne_server
from hearus_testkit import ROOT
from hearus_testkit.cpu_hogs import cpu_hogs

COMMAND = "python -m bench.caption_latency"
# Server settings a run may be given through the environment; named in the reported command.
REPORTED_SETTINGS = ("WHISPER_LIVE_ENCODER_WINDOW_S", "WHISPER_MODEL", "CHANNEL_LAYER")


def _numbers(text: str, smallest: int) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < smallest:
        raise argparse.ArgumentTypeError(
            f"expected numbers >= {smallest} like {smallest},2,4; got {text!r}"
        )
    return values


def _counts(text: str) -> list[int]:
    return _numbers(text, 1)


def _hog_counts(text: str) -> list[int]:
    return _numbers(text, 0)


# The audio lecture `index` of `count` streams.
AudioFor = Callable[[int, int], LectureAudio]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Final-caption latency of the live caption path through a real Daphne.",
    )
    parser.add_argument("--instructors", type=_counts, default=[1], help="N values, e.g. 1,2,4")
    parser.add_argument(
        "--viewers", type=_counts, default=[1], help="M viewers per lecture, e.g. 1,100,500"
    )
    parser.add_argument(
        "--cpu-hog",
        type=_hog_counts,
        default=[0],
        help="K processes burning one core each beside the server, e.g. 0,1,2 (one run each)",
    )
    parser.add_argument(
        "--audio", type=Path, help="stream this audio file (any format PyAV reads) instead"
    )
    parser.add_argument(
        "--reference", type=Path, help="with --audio: a text file of what is said in it"
    )
    parser.add_argument("--language", default="en", help="with --audio: the course language")
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
    if (args.reference or args.language != "en") and not args.audio:
        parser.error("--reference and --language go with --audio")
    return args


def audio_source(args: argparse.Namespace) -> tuple[AudioFor, str]:
    """What the lectures stream, and its description for the report."""
    if args.audio:
        reference = args.reference.read_text().strip() if args.reference else ""
        audio = file_audio(args.audio, reference, args.language)
        return (lambda _index, _count: audio), audio.description
    sentences = load_sentences(args.seed)

    def rotated(index: int, count: int) -> LectureAudio:
        return lecture_audio(sentences, rotation_for(index, count, len(sentences)))

    return rotated, rotated(0, 1).description


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
    audio_for, audio_description = audio_source(args)
    own_server = not args.url
    database = prepare_database(args.database_url, own_server=own_server, run_id=run_id)
    setup, default_label = setup_name(database, args.redis_url, not own_server)
    if args.redis_url and own_server:
        flush_redis(args.redis_url)
    try:
        setup_django(database.url, args.redis_url)
        results = run_configurations(args, run_id, setup, audio_for, database)
        offline = call_costs = None
        if args.compare_offline:
            call_costs = asr_call_costs(audio_for(0, 1))
            streamed = {
                audio.rotation: audio
                for result in results
                for index in range(result.instructors)
                for audio in [audio_for(index, result.instructors)]
            }
            offline = transcribe_offline(list(streamed.values()))
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
        audio=audio_description,
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
    audio_for: AudioFor,
    database: Database,
) -> list[ConfigResult]:
    """Every hogs x N x M; a configuration disturbed by other load runs again (`--retry-busy`)."""
    results: list[ConfigResult] = []
    for hogs in args.cpu_hog:
        for instructors in args.instructors:
            for viewers in args.viewers:
                config = Config(instructors=instructors, viewers=viewers, hogs=hogs)
                attempts: list[ConfigResult] = []
                for attempt in range(1 + args.retry_busy):
                    result = run_configuration(
                        args, run_id, setup, audio_for, config, database, attempt
                    )
                    print(latency_table([result]), load_table([result]), sep="\n", flush=True)
                    attempts.append(result)
                    if result.other_cpu_pct < args.quiet_threshold or attempt == args.retry_busy:
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


@dataclass(frozen=True)
class Config:
    instructors: int
    viewers: int
    hogs: int

    @property
    def slug(self) -> str:
        return f"n{self.instructors}m{self.viewers}" + (f"h{self.hogs}" if self.hogs else "")


def run_configuration(
    args: argparse.Namespace,
    run_id: str,
    setup: str,
    audio_for: AudioFor,
    config: Config,
    database: Database,
    attempt: int = 0,
) -> ConfigResult:
    instructors, viewers = config.instructors, config.viewers
    suffix = f"-a{attempt}" if attempt else ""
    tag = f"b{run_id}{config.slug}{suffix}"
    audios = [audio_for(index, instructors) for index in range(instructors)]
    plans = create_lectures(tag, audios, viewers)
    own_server = not args.url
    warm_plan = create_lectures(f"{tag}w", audios[:1], 0)[0] if own_server else None
    print(
        f"{setup}: N={instructors} x M={viewers}, {config.hogs} hog cores, "
        f"{audios[0].duration_s:.1f} s of audio ...",
        flush=True,
    )
    waited, busy = wait_for_quiet(args.quiet_wait, args.quiet_threshold)
    load_before = os.getloadavg()[0]
    print(
        f"  started after {waited:.0f} s; other load {busy:.0f}% of a core, "
        f"load average {load_before:.2f}",
        flush=True,
    )
    with cpu_hogs(config.hogs) as hog_pids:
        if own_server:
            log_path = BENCH_DIR / f"daphne-{run_id}-{config.slug}{suffix}.log"
            env = server_environment(database.url, args.redis_url)
            with daphne_server(env, log_path) as server:
                measurement = asyncio.run(
                    measure(server, plans, warm_plan, args.settle_timeout, hog_pids)
                )
        else:
            server = Server(url=args.url.rstrip("/"), pid=args.server_pid, log_path=None)
            measurement = asyncio.run(measure(server, plans, None, args.settle_timeout, hog_pids))
        load_after = os.getloadavg()[0]
    raw_path = BENCH_DIR / f"raw-{run_id}-{config.slug}{suffix}.json"
    write_raw(raw_path, plans, measurement)
    return summarize(
        setup,
        plans,
        viewers,
        measurement,
        server,
        waited,
        hogs=config.hogs,
        load_before=load_before,
        load_after=load_after,
    )


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
