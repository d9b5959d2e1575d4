"""The test suite's Daphne server: hearus_testkit's launcher on the test settings and database."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from hearus_testkit import ROOT
from hearus_testkit.daphne import DaphneProcess, daphne_process


def test_database_url() -> str:
    """The URL of the database the tests run on (test_<name> on PostgreSQL, a file on SQLite)."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{config['USER']}{password}@{config['HOST']}{port}/{config['NAME']}"


def server_environment(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """A server process's environment: the test settings, database and LECTURE_AUDIO_ROOT."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "DATABASE_URL": test_database_url(),
        "EAGER_TASKS_IN_BACKGROUND": "1",
        **(extra_env or {}),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def daphne_server(
    extra_env: dict[str, str] | None = None, application: str = "hearus_site.asgi:application"
) -> Iterator[str]:
    """A Daphne server on the test database; yield its base URL (http://127.0.0.1:PORT)."""
    env = server_environment(extra_env)
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"daphne-test-{os.getpid()}.log"
    with daphne_process(env, log_path, application) as (base_url, _pid):
        yield base_url


@contextmanager
def restartable_daphne_server(log_path: Path) -> Iterator[DaphneProcess]:
    """A Daphne on the test database that a test may kill and start again on its port."""
    daphne = DaphneProcess(server_environment(), log_path)
    try:
        daphne.start()
        yield daphne
    finally:
        daphne.stop()
