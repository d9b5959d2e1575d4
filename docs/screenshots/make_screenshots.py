"""The README's screenshots, made from the demo data so they can be refreshed after a change:

    .venv/bin/python docs/screenshots/make_screenshots.py

It builds a scratch SQLite database (migrations + `seed_demo`, which computes the past
lectures' notes), makes the scheduled demo lecture live with a few captions, serves the product
with Daphne on a free port, and photographs it with Debian's Chromium (Playwright): the live
page on a phone (390x844), the notes page and the broadcast page on a laptop (1280x800), all
in Korean. The PNGs land next to this file.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("HEARUS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "hearus-demo-2026"
LIVE_CAPTIONS = [
    "지난 시간에는 인공지능의 역사를 살펴봤습니다.",
    "오늘은 신경망이 어떻게 학습하는지 보겠습니다.",
    "신경망은 여러 층의 뉴런으로 이루어져 있습니다.",
    "각 뉴런은 입력에 가중치를 곱해서 더하고 활성화 함수를 거칩니다.",
    "학습은 오차를 줄이는 방향으로 가중치를 조금씩 바꾸는 과정입니다.",
    "이때 쓰는 방법이 바로 역전파입니다.",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(env: dict[str, str]) -> tuple[int, int]:
    """Migrate, seed, and put the scheduled demo lecture live; return its id and the id of a
    past lecture with notes."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True)
    script = f"""
from django.utils import timezone
from captions.models import TranscriptSegment
from lectures.models import Keyword, Lecture
lecture = Lecture.objects.filter(status="scheduled").order_by("scheduled_at").first()
lecture.status, lecture.started_at = "live", timezone.now()
lecture.save()
for seq, text in enumerate({LIVE_CAPTIONS!r}, 1):
    TranscriptSegment.objects.update_or_create(lecture=lecture, seq=seq, defaults=dict(
        start_ms=seq * 4000, end_ms=seq * 4000 + 3500, text=text))
for rank, term in enumerate(["신경망", "역전파", "가중치"], 1):
    Keyword.objects.update_or_create(lecture=lecture, term=term, defaults=dict(
        rank=rank, score=1 / rank, count=2, occurrences=[]))
past = Lecture.objects.exclude(pk=lecture.pk).filter(segments__isnull=False).first()
print(lecture.pk, past.pk)
"""
    result = subprocess.run(
        [*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    live_id, past_id = result.stdout.decode().split()[-2:]
    return int(live_id), int(past_id)


def main() -> None:
    from playwright.sync_api import sync_playwright

    scratch = Path(tempfile.mkdtemp(prefix="hearus-screenshots-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hearus_site.settings.dev",
        "DATABASE_URL": f"sqlite:///{scratch / 'demo.sqlite3'}",
        "REDIS_URL": "",
        "EAGER_TASKS_IN_BACKGROUND": "1",
    }
    live_id, past_id = prepare(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )

            def login(username: str, width: int, height: int):  # type: ignore[no-untyped-def]
                context = browser.new_context(
                    locale="ko-KR", viewport={"width": width, "height": height}
                )
                page = context.new_page()
                page.goto(f"{base}/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{base}/dashboard/")
                return page

            student = login("student1", 390, 844)
            student.goto(f"{base}/lectures/{live_id}/live/")
            student.wait_for_selector("#finals li")
            student.wait_for_timeout(500)
            student.screenshot(path=str(OUT / "live-phone.png"))

            reader = login("student1", 1280, 800)
            reader.goto(f"{base}/lectures/{past_id}/")
            reader.wait_for_selector("#transcript")
            reader.screenshot(path=str(OUT / "notes.png"))

            instructor = login("instructor", 1280, 800)
            instructor.goto(f"{base}/lectures/{live_id}/broadcast/")
            instructor.wait_for_timeout(500)
            instructor.screenshot(path=str(OUT / "broadcast.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
