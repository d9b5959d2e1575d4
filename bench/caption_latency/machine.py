"""The machine the run shares: CPU accounting from /proc, waiting for quiet, limits, hardware."""

import contextlib
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_busy_s() -> float:
    """CPU seconds all processes have used (every core), from the first line of /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(max_wait_s: float, threshold_pct: float) -> tuple[float, float]:
    """Wait (at most `max_wait_s`) until other processes use under `threshold_pct` of a core.

    Other people's test suites share this machine; a benchmark run beside them measures them.
    Returns (seconds waited, the last 5 s sample of CPU use in % of one core).
    """
    started = time.monotonic()
    while True:
        before = system_busy_s()
        time.sleep(5)
        busy_pct = 100 * (system_busy_s() - before) / 5
        waited = time.monotonic() - started
        if busy_pct < threshold_pct or waited >= max_wait_s:
            return waited, busy_pct
        print(f"  waiting for a quieter machine: {busy_pct:.0f}% of a core busy", flush=True)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        print(f"warning: open-file limit {target} < {needed} wanted", file=sys.stderr)


def hardware() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        match = re.search(r"^Model name:\s*(.+)$", lscpu, re.MULTILINE)
        if match:
            model = match.group(1).strip()
    memory = "unknown"
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        found = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
        if found:
            memory = f"{int(found.group(1)) / 1024**2:.1f} GiB"
    return f"{cpus} CPUs (nproc), {model}, {memory} RAM, Linux {platform.release()}"
