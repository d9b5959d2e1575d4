"""How much a large upload costs the web process: 500 MB sent in parts through a real Daphne,
its resident memory sampled from /proc (issue 15, item 3: before, a 520 MB multipart POST took
Daphne from 1.0 GB to 8.2 GB). The figure goes to docs/benchmarks.md:

    HEARUS_UPLOAD_MB=500 .venv/bin/python -m pytest -q -s tests/security/test_upload_memory.py
"""

import json
import os
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from knox.models import AuthToken

from hearus_testkit.daphne import daphne_process
from lectures.models import Lecture
from tests import daphne_server
from tests.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MEGABYTE = 1024 * 1024
UPLOAD_BYTES = int(os.environ.get("HEARUS_UPLOAD_MB", "200")) * MEGABYTE


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


def wav_header(data_bytes: int) -> bytes:
    """A 16 kHz mono PCM16 WAV header for `data_bytes` of samples."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[tuple[str, int]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.test",
        "DATABASE_URL": daphne_server.test_database_url(),
        "TEST_MEDIA_ON_DISK": "1",
        # The file is refused as too long once joined: only the upload is measured.
        "RECORDING_MAX_SECONDS": "60",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with daphne_process(env, tmp_path / "daphne.log") as (base_url, pid):
        yield base_url, pid


def call(base_url: str, method: str, path: str, cookie: str, body: bytes, kind: str) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(
        base_url + path,
        data=body,
        method=method,
        headers={"Authorization": f"Token {cookie}", "Content-Type": kind},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_a_large_upload_in_parts_keeps_daphne_small(world: World, server: tuple[str, int]) -> None:
    base_url, pid = server
    lecture = Lecture.objects.create(
        course=world.course, title="Long", scheduled_at=world.lecture.scheduled_at
    )
    _instance, cookie = AuthToken.objects.create(user=world.instructor)
    base = f"/api/lectures/{lecture.pk}/recording/uploads/"
    upload = call(
        base_url,
        "POST",
        base,
        cookie,
        json.dumps({"size": UPLOAD_BYTES}).encode(),
        "application/json",
    )
    before = rss_mb(pid)
    peak = before
    part = upload["part_bytes"]
    header = wav_header(UPLOAD_BYTES - 44)
    silence = bytes(part)
    offset = 0
    while offset < UPLOAD_BYTES - part:
        body = (header + silence)[:part] if offset == 0 else silence
        answer = call(
            base_url,
            "PUT",
            f"{base}{upload['id']}/?offset={offset}",
            cookie,
            body,
            "application/octet-stream",
        )
        offset = answer["offset"]
        peak = max(peak, rss_mb(pid))
    last = UPLOAD_BYTES - offset
    try:
        call(
            base_url,
            "PUT",
            f"{base}{upload['id']}/?offset={offset}",
            cookie,
            bytes(last),
            "application/octet-stream",
        )
    except urllib.error.HTTPError as refused:  # longer than RECORDING_MAX_SECONDS, as meant
        assert refused.code == 400
        assert json.loads(refused.read())["code"] == "too_long"
    peak = max(peak, rss_mb(pid), rss_mb(pid, "VmHWM"))
    growth = peak - before
    print(
        f"\nupload {UPLOAD_BYTES / MEGABYTE:.0f} MB in {part / MEGABYTE:.0f} MB parts: Daphne RSS "
        f"{before:.0f} MB before, peak {peak:.0f} MB (+{growth:.0f} MB)"
    )
    assert growth < 100
