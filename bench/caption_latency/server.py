"""The server under test: a fresh Daphne process (hearus_testkit's launcher) or yours (`--url`)."""

import contextlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hearus_testkit.daphne import daphne_process


@dataclass(frozen=True)
class Server:
    url: str
    pid: int | None
    log_path: Path | None


@contextlib.contextmanager
def daphne_server(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    with daphne_process(env, log_path) as (url, pid):
        yield Server(url=url, pid=pid, log_path=log_path)


def log_problems(log_path: Path | None) -> dict[str, int]:
    """ERROR and CRITICAL records of the server log: message (without its time) -> count."""
    if log_path is None or not log_path.is_file():
        return {}
    record = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) (.*)$")
    found: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        match = record.match(line)
        if match:
            found[f"{match.group(1)} {match.group(2)[:200]}"] += 1
    return dict(found)
