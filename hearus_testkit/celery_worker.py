"""A real Celery worker (`-Q nlp,media`, one pool child) in a child process, killed by PID."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from hearus_testkit import ROOT
from hearus_testkit.daphne import stop_process


class CeleryWorker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**env, "CELERY_TASK_ALWAYS_EAGER": "0"}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "hearus_site", "worker"]
        options = ["-Q", "nlp,media", "--concurrency", "1", "--without-gossip", "--without-mingle"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, *options, "-l", "INFO"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def pool_child(self) -> int:
        """The prefork child that runs the tasks."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def kill_pool_child(self) -> None:
        os.kill(self.pool_child(), signal.SIGKILL)

    def stop(self) -> None:
        stop_process(self.process)

    def text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
