"""Production settings pass Django's deployment checklist and refuse weak secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-production-secret-that-is-long-and-random-0123456789"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG")
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set while the browser tests run
    }
    environment.update(DJANGO_SETTINGS_MODULE="hearus_site.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="hearus.example.ac.kr",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_with_a_short_secret_key() -> None:
    result = run_manage("check", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50" in result.stderr


def test_production_refuses_to_seed_demo_accounts() -> None:
    result = run_manage("seed_demo", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "refusing with DEBUG off" in result.stderr


def test_an_encoder_window_out_of_range_is_refused() -> None:
    result = run_manage("check", SECRET_KEY=STRONG_KEY, WHISPER_LIVE_ENCODER_WINDOW_S="45")
    assert result.returncode != 0
    assert "WHISPER_LIVE_ENCODER_WINDOW_S must be between 1 and 30" in result.stderr
