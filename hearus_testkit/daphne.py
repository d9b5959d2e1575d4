"""A real Daphne server serving hearus_site.asgi in a child process (tests and benchmarks)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hearus_testkit import ROOT


def stop_process(process: "subprocess.Popen[bytes] | None") -> None:
    """Stop a server of the test kit's: SIGTERM (its graceful stop), SIGKILL after 30 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DaphneProcess:
    """Daphne on one port, which survives its process: `kill` it (SIGKILL, by PID, as a crash
    does) and `start` it again on the same port with the same environment (the same database
    and LECTURE_AUDIO_ROOT), as a restarted pod behind the same address."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        port: int | None = None,
        application: str = "hearus_site.asgi:application",
    ) -> None:
        self.env = env
        self.application = application
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start serving; returns once /healthz answers."""
        # The product's own command (Daphne with its defaults and graceful stop).
        command = [
            sys.executable,
            "-m",
            "hearus_site.serve",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, self.application],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_health(self.process, self.base_url, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, sockets torn down by the kernel."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def daphne_process(
    env: dict[str, str], log_path: Path, application: str = "hearus_site.asgi:application"
) -> Iterator[tuple[str, int]]:
    """Serve `application` (hearus_site.asgi) with Daphne in a child process with `env`, logging
    to `log_path`; yield (base URL, pid) once /healthz answers; stop it afterwards."""
    log_path.write_bytes(b"")
    server = DaphneProcess(env, log_path, application=application)
    try:
        server.start()
        yield server.base_url, server.pid
    finally:
        server.stop()


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
