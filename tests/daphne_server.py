"""A real Daphne server in its own process, on the test database, for end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database the tests run on (test_<name> on PostgreSQL, a file on SQLite)."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{config['USER']}{password}@{config['HOST']}{port}/{config['NAME']}"


@contextmanager
def daphne_process(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    """Serve hearus_site.asgi with Daphne in a child process with `env`, logging to `log_path`;
    yield (base URL, pid) once /healthz answers; stop it afterwards. The benchmarks use it too."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "hearus_site.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"Daphne did not start; see {log_path}:\n{log_path.read_text()[-3000:]}"
                        ) from None
                    time.sleep(0.2)
            yield base_url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def daphne_server(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A Daphne server on the test database; yield its base URL (http://127.0.0.1:PORT)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "DATABASE_URL": test_database_url(),
        "EAGER_TASKS_IN_BACKGROUND": "1",
        **(extra_env or {}),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    with daphne_process(env, log_dir / f"daphne-test-{os.getpid()}.log") as (base_url, _pid):
        yield base_url
