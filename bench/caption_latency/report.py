"""The results as tables: printed after a run, saved as JSON, written into docs/benchmarks.md."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.caption_latency import LATENCY_TARGET_S, LOAD_TARGET_MAX_S, LOAD_TARGET_P95_S
from bench.caption_latency.baseline import OfflineResult
from bench.caption_latency.results import ConfigResult


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def latency_table(results: Sequence[ConfigResult]) -> str:
    header = (
        "| config | finals/lecture | p50 s | p95 s | max s | p95 at store s | delivery p95 s "
        "| first words p50 s "
        "| lost | dup | ASR RTF | server CPU % | client CPU % | other CPU % | send lag max ms "
        "| p95 <= 3 s |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for r in results:
        verdict = "-" if r.p95_s is None else ("yes" if r.p95_s <= LATENCY_TARGET_S else "**no**")
        rtf = "-" if r.rtf_mean is None else f"{r.rtf_mean:.3f}"
        server_cpu = "-" if r.server_cpu_pct is None else f"{r.server_cpu_pct:.0f}"
        rows.append(
            f"| {r.name} | {r.finals_per_lecture:.1f} | {_s(r.p50_s)} | {_s(r.p95_s)} "
            f"| {_s(r.max_s)} | {_s(r.stored_p95_s)} | {_s(r.delivery_p95_s)} "
            f"| {_s(r.first_words_p50_s)} "
            f"| {r.lost} | {r.duplicated} | {rtf} "
            f"| {server_cpu} | {r.client_cpu_pct:.0f} | {max(0.0, r.other_cpu_pct):.0f} "
            f"| {r.max_send_lag_ms:.0f} | {verdict} |"
        )
    return header + "\n".join(rows) + "\n"


def _load(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def load_table(results: Sequence[ConfigResult]) -> str:
    """Lag, completeness and cost per configuration, beside the machine's load: the table for
    runs with busy processes beside the server (`--cpu-hog`)."""
    header = (
        "| config | load before / after | p50 s | p95 s | max s | words lost "
        "| speech regions skipped | words dropped by filters | server CPU s / audio s "
        "| hog CPU % | other CPU % | largest delay notice s | "
        f"p95 <= {LOAD_TARGET_P95_S:.0f} s, max <= {LOAD_TARGET_MAX_S:.0f} s, none skipped |\n"
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for r in results:
        met = (
            r.p95_s is not None
            and r.max_s is not None
            and r.p95_s <= LOAD_TARGET_P95_S
            and r.max_s <= LOAD_TARGET_MAX_S
            and not r.uncovered_speech
        )
        dropped = (
            "-"
            if r.dropped_words is None
            else ", ".join(f"{reason} {n}" for reason, n in sorted(r.dropped_words.items()) if n)
            or "0"
        )
        skipped = f"{len(r.uncovered_speech)} of {r.speech_regions}" if r.speech_regions else "-"
        notice = "-" if r.max_delay_notice_s is None else str(r.max_delay_notice_s)
        if r.max_delay_notice_s is not None and not r.delay_cleared:
            notice += " (not cleared)"
        rows.append(
            f"| {r.name} | {_load(r.load_before)} / {_load(r.load_after)} | {_s(r.p50_s)} "
            f"| {_s(r.p95_s)} | {_s(r.max_s)} "
            f"| {'-' if r.words_lost is None else r.words_lost} | {skipped} | {dropped} "
            f"| {_s(r.server_cpu_per_audio_s)} | {r.hog_cpu_pct:.0f} "
            f"| {max(0.0, r.other_cpu_pct):.0f} | {notice} "
            f"| {('yes' if met else '**no**') if r.speech_regions else '-'} |"
        )
    return header + "\n".join(rows) + "\n"


def accuracy_table(
    results: Sequence[ConfigResult], offline: dict[int, OfflineResult] | None
) -> str:
    header = "| config | streamed WER | streamed CER | offline WER | offline CER | WER change |\n"
    header += "|---|---:|---:|---:|---:|---:|\n"
    rows = []
    for r in results:
        off_wer = off_cer = None
        if offline is not None:
            off_wer = float(np.mean([offline[rotation].wer for rotation in r.rotations]))
            off_cer = float(np.mean([offline[rotation].cer for rotation in r.rotations]))
        change = "-" if off_wer is None else f"{100 * (r.streamed_wer - off_wer):+.1f} pt"
        rows.append(
            f"| {r.name} | {100 * r.streamed_wer:.1f}% | {100 * r.streamed_cer:.1f}% "
            f"| {'-' if off_wer is None else f'{100 * off_wer:.1f}%'} "
            f"| {'-' if off_cer is None else f'{100 * off_cer:.1f}%'} | {change} |"
        )
    return header + "\n".join(rows) + "\n"


def crossing_sentence(results: Sequence[ConfigResult]) -> str:
    """Per viewer count: the largest N whose p95 stays within the target."""
    parts = []
    for viewers in sorted({r.viewers for r in results}):
        row = sorted((r for r in results if r.viewers == viewers), key=lambda r: r.instructors)
        ok = [r.instructors for r in row if r.p95_s is not None and r.p95_s <= LATENCY_TARGET_S]
        failed = [r.instructors for r in row if r.p95_s is None or r.p95_s > LATENCY_TARGET_S]
        if not failed:
            parts.append(f"M={viewers}: p95 <= 3 s up to N={max(ok)} (all measured)")
        elif not ok:
            parts.append(f"M={viewers}: p95 > 3 s already at N={min(failed)}")
        else:
            parts.append(f"M={viewers}: p95 <= 3 s up to N={max(ok)}, > 3 s from N={min(failed)}")
    return "; ".join(parts)


def _costs_line(
    call_costs: dict[float, float] | None, offline: dict[int, OfflineResult] | None
) -> str:
    parts = []
    if call_costs:
        each = ", ".join(f"{audio:.0f} s: {cost:.2f} s" for audio, cost in call_costs.items())
        parts.append(f"- One live ASR call (`WhisperEngine.transcribe`) on this machine: {each}.")
    if offline:
        first = next(iter(offline.values()))
        parts.append(f"- Whole-file offline transcription of one lecture: {first.seconds:.1f} s.")
    return "\n".join(parts) + ("\n" if parts else "")


def problems_text(results: Sequence[ConfigResult], *, prefix: str) -> str:
    """Server log errors, broadcast errors and dropped viewers, per configuration."""
    lines = []
    for r in results:
        parts = [f"{count} x `{message}`" for message, count in r.server_log_problems.items()]
        parts += [
            f"{count} x broadcast refused `{error}`"
            for error, count in Counter(r.broadcast_errors).items()
        ]
        if r.viewers_closed_early:
            parts.append(f"{r.viewers_closed_early} viewers closed by the server")
        if not r.settled:
            parts.append("viewers did not all receive the last final within the settle time")
        if parts:
            where = r.server_log or "external server"
            lines.append(f"{prefix}{r.name} ({where}): {'; '.join(parts)}")
    return "\n".join(lines) if lines else f"{prefix}No server errors, broadcast errors or drops."


@dataclass
class Report:
    """One invocation's results: what `--markdown` renders and `--from-json` reads back."""

    setup: str
    label: str
    command: str
    date: str
    hardware: str
    results: list[ConfigResult]
    offline: dict[int, OfflineResult] | None
    call_costs: dict[float, float] | None
    audio: str = "English lecture by espeak-ng"

    def save(self, path: Path) -> None:
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1))

    @classmethod
    def load(cls, path: Path) -> Report:
        data = json.loads(path.read_text())
        offline = data.get("offline")
        costs = data.get("call_costs")
        return cls(
            setup=data["setup"],
            label=data["label"],
            command=data["command"],
            date=data["date"],
            hardware=data["hardware"],
            results=[ConfigResult(**result) for result in data["results"]],
            offline=(
                {int(key): OfflineResult(**value) for key, value in offline.items()}
                if offline
                else None
            ),
            call_costs={float(key): value for key, value in costs.items()} if costs else None,
            audio=data.get("audio", "English lecture by espeak-ng"),
        )


def markdown_block(report: Report) -> str:
    results = report.results
    lines = [
        f"<!-- caption-latency:{report.label}:begin (generated by bench/caption_latency) -->",
        f"### {report.setup}",
        "",
        f"- Command: `{report.command}`",
        f"- Date: {report.date}",
        f"- Hardware: {report.hardware}; the bench client and the server share these CPUs.",
        f"- Audio: {results[0].audio_s:.1f} s {report.audio}, 100 ms PCM16 frames "
        "at real-time pace.",
        f"- Target p95 <= {LATENCY_TARGET_S:.0f} s: {crossing_sentence(results)}.",
        "",
        latency_table(results),
        load_table(results),
        accuracy_table(results, report.offline),
        _costs_line(report.call_costs, report.offline),
        problems_text(results, prefix="- "),
        f"<!-- caption-latency:{report.label}:end -->",
    ]
    return "\n".join(lines) + "\n"


def print_report(report: Report) -> None:
    print(f"\n{report.setup}\n")
    print(latency_table(report.results))
    print(load_table(report.results))
    print(accuracy_table(report.results, report.offline))
    print(_costs_line(report.call_costs, report.offline))
    print(f"Target p95 <= {LATENCY_TARGET_S:.0f} s: {crossing_sentence(report.results)}")
    print(problems_text(report.results, prefix=""))


def update_markdown(path: Path, label: str, block: str) -> None:
    begin = f"<!-- caption-latency:{label}:begin"
    end = f"<!-- caption-latency:{label}:end -->"
    section = "## Live caption latency"
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _old, tail = rest.split(end, 1)
        text = head + block.rstrip("\n") + tail
    else:
        if section not in text:
            text = text.rstrip("\n") + f"\n\n{section}\n\n"
        start = text.index(section)
        following = text.find("\n## ", start + len(section))
        insert_at = len(text) if following < 0 else following + 1
        before = text[:insert_at].rstrip("\n") + "\n\n"
        text = before + block + ("\n" + text[insert_at:] if following >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
