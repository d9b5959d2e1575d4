"""Part of infra/image-smoke.sh, run inside a built image next to a running worker:

    python /smoke/smoke_check.py AUDIO_FILE TIMEOUT_S

Makes an instructor, a course and a lecture, uploads AUDIO_FILE through the application's own
`recording_upload` (which queues `transcribe_recording` on the `media` queue), then waits until
the worker has stored the transcript. Exits 0 once the lecture has segments with text, 1 if the
lecture failed or TIMEOUT_S passed. Never run against a real deployment's database.
"""

import os
import sys
import time
from pathlib import Path

import django


def main(audio: Path, timeout_s: float) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.production")
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.models import User
    from classroom import recordings
    from lectures.models import Course, Lecture

    stamp = str(time.time_ns())
    instructor = User.objects.create_user(
        username=f"smoke-{stamp}", password=None, role=User.Role.INSTRUCTOR
    )
    course = Course.objects.create(code=f"SMOKE{stamp[-8:]}", title="Smoke test", language="en")
    course.instructors.add(instructor)
    lecture = Lecture.objects.create(course=course, title="Smoke", scheduled_at=timezone.now())
    upload = SimpleUploadedFile(audio.name, audio.read_bytes())
    recordings.recording_upload(lecture=lecture, by=instructor, file=upload)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lecture.refresh_from_db()
        if lecture.status == Lecture.Status.FAILED:
            print(f"the transcription failed: {lecture.__dict__}")
            return 1
        texts = list(lecture.segments.order_by("seq").values_list("text", flat=True))
        if texts:
            print(f"{len(texts)} segments: {' '.join(texts)[:300]}")
            return 0
        time.sleep(2)
    print(f"no segments after {timeout_s} s (lecture status {lecture.status})")
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), float(sys.argv[2])))
