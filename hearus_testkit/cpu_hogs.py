"""Busy processes beside a measurement: each burns one core until it is killed (by its PID).

The benchmarks use them to measure the live path on a machine where other work takes CPU
(`bench/asr_quality.py --cpu-hog K`, `python -m bench.caption_latency --cpu-hog K`).
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# A tight loop in a fresh interpreter: one core's worth of work, nothing shared with the caller.
_BURN = "while True:\n    pass\n"


@contextmanager
def cpu_hogs(count: int) -> Iterator[list[int]]:
    """Start `count` processes that each burn one core; yield their PIDs; kill them afterwards."""
    processes = [
        subprocess.Popen([sys.executable, "-c", _BURN], stdin=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        if processes:
            time.sleep(0.5)  # let them start burning before the measurement does
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
