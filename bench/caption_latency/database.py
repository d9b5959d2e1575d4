"""The server's database and channel layer: scratch databases, Redis, the Django environment."""

import os
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass

from bench.caption_latency import BENCH_DIR
from hearus_testkit import ROOT


@dataclass(frozen=True)
class Database:
    url: str
    kind: str  # "sqlite" or "postgres"
    scratch_postgres: str = ""  # name of the database this run created (dropped at the end)


def _postgres_admin(url: str) -> tuple[str, str]:
    """(the maintenance-database URL, the database name) of a postgres:// URL."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    return admin, name


def _postgres_execute(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement.encode())


def _scratch_postgres(database_url: str) -> Database:
    """Drop and create the database of `database_url`, whose name must start hearus_bench."""
    admin, name = _postgres_admin(database_url)
    if not re.fullmatch(r"hearus_bench\w*", name):
        raise SystemExit(
            f"refusing to (re)create database {name!r}: scratch names start hearus_bench"
        )
    _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres_execute(admin, f'CREATE DATABASE "{name}"')
    return Database(url=database_url, kind="postgres", scratch_postgres=name)


def prepare_database(database_url: str | None, *, own_server: bool, run_id: str) -> Database:
    """The run's database: a fresh SQLite file by default; migrated when the server is ours."""
    if not database_url:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        path = BENCH_DIR / f"bench-{run_id}.sqlite3"
        database = Database(url=f"sqlite:///{path}", kind="sqlite")
    elif database_url.startswith(("postgres://", "postgresql://")):
        database = Database(url=database_url, kind="postgres")
        if own_server:
            database = _scratch_postgres(database_url)
    elif database_url.startswith("sqlite:"):
        database = Database(url=database_url, kind="sqlite")
    else:
        raise SystemExit(f"unsupported --database-url {database_url!r}")
    if own_server:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=server_environment(database.url, None),
            check=True,
        )
    return database


def drop_scratch_database(database: Database) -> None:
    if not database.scratch_postgres:
        return
    from django.db import connections

    connections.close_all()
    admin, _name = _postgres_admin(database.url)
    _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{database.scratch_postgres}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def check_redis_url(url: str) -> None:
    db = urllib.parse.urlsplit(url).path.lstrip("/")
    if not db.isdigit() or db == "0":
        raise SystemExit("--redis-url must name a db number other than 0 (it is flushed), e.g. /9")


def server_environment(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
        # The benchmark loads one process with N lectures to find where latency breaks: the
        # server must not refuse the extra ones (captions.capacity).
        "LIVE_CAPACITY": os.environ.get("LIVE_CAPACITY", "1000"),
        # Database connections kept per thread, as in production (infra/k8s/base/config.yaml):
        # with 0, every read on the thread pool connects to PostgreSQL anew.
        "CONN_MAX_AGE": "60",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def setup_django(database_url: str, redis_url: str | None) -> None:
    """Django in this process, on the server's settings and database (for the fixtures)."""
    os.environ.update(server_environment(database_url, redis_url))
    os.environ["CONN_MAX_AGE"] = "0"  # this process drops the scratch database at the end
    if not redis_url:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
