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
def daphne_server(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve hearus_site.asgi with Daphne; yield its base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "DATABASE_URL": test_database_url(),
        **(extra_env or {}),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(ROOT / "var" / f"daphne-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "hearus_site.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Daphne did not start: {(ROOT / 'var' / f'daphne-{port}.log').read_text()}"
                    ) from None
                time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
