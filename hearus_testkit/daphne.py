"""A real Daphne server serving hearus_site.asgi in a child process (tests and benchmarks)."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hearus_testkit import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def daphne_process(
    env: dict[str, str], log_path: Path, application: str = "hearus_site.asgi:application"
) -> Iterator[tuple[str, int]]:
    """Serve `application` (hearus_site.asgi) with Daphne in a child process with `env`, logging
    to `log_path`; yield (base URL, pid) once /healthz answers; stop it afterwards."""
    port = free_port()
    # The product's own command (Daphne with its defaults and graceful stop).
    command = [sys.executable, "-m", "hearus_site.serve", "-b", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, application],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_health(process, base_url, log_path)
            yield base_url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_health(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Daphne did not start; see {log_path}:\n{log_path.read_text()[-3000:]}"
                ) from None
            time.sleep(0.2)
