"""What a run needs in the database (users, courses, live lectures, sessions) and what the
server stored (the lectures' TranscriptSegments). ORM work in this process; Django is set up
by `database.setup_django`, so Django is imported inside the functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bench.caption_latency.lecture import LectureAudio

if TYPE_CHECKING:
    from accounts.models import User
    from lectures.models import Lecture


@dataclass(frozen=True)
class LecturePlan:
    lecture_id: int
    instructor_cookie: str
    viewer_cookies: list[str]
    audio: LectureAudio


class _Sessions:
    """Logged-in sessions made directly (no login round trips), saved in one bulk insert."""

    def __init__(self) -> None:
        from django.conf import settings
        from django.contrib.sessions.backends.db import SessionStore
        from django.contrib.sessions.models import Session
        from django.utils import timezone

        self.store = SessionStore()
        self.expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        self.cookie_name = settings.SESSION_COOKIE_NAME
        self.sessions: list[Session] = []

    def cookie_for(self, user: User) -> str:
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.base import VALID_KEY_CHARS
        from django.contrib.sessions.models import Session
        from django.utils.crypto import get_random_string

        key = get_random_string(32, VALID_KEY_CHARS)
        data = self.store.encode(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        self.sessions.append(Session(session_key=key, session_data=data, expire_date=self.expires))
        return f"{self.cookie_name}={key}"

    def save(self) -> None:
        from django.contrib.sessions.models import Session

        Session.objects.bulk_create(self.sessions, batch_size=500)


def _live_lecture(
    tag: str, index: int, viewers: int, password: str, language: str
) -> tuple[User, list[User], Lecture]:
    """A course with its instructor, `viewers` enrolled students and a live lecture."""
    from django.utils import timezone

    from accounts.models import User
    from lectures.models import Course, Enrollment, Lecture

    instructor = User.objects.create(
        username=f"{tag}-i{index}", role=User.Role.INSTRUCTOR, password=password
    )
    students = User.objects.bulk_create(
        [User(username=f"{tag}-c{index}-s{j}", password=password) for j in range(viewers)],
        batch_size=500,
    )
    course = Course.objects.create(
        code=f"{tag}-{index}", title=f"Benchmark course {index}", language=language
    )
    course.instructors.add(instructor)
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, student=student) for student in students],
        batch_size=500,
    )
    now = timezone.now()
    lecture = Lecture.objects.create(
        course=course,
        title=f"Benchmark lecture {index}",
        scheduled_at=now,
        status=Lecture.Status.LIVE,
        started_at=now,
    )
    return instructor, students, lecture


def create_lectures(tag: str, audios: Sequence[LectureAudio], viewers: int) -> list[LecturePlan]:
    """A course per lecture: its instructor, `viewers` enrolled students, a live lecture."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    unusable = make_password(None)  # no password hashing for thousands of users
    plans: list[LecturePlan] = []
    with transaction.atomic():
        sessions = _Sessions()
        for index, audio in enumerate(audios):
            instructor, students, lecture = _live_lecture(
                tag, index, viewers, unusable, audio.language
            )
            plans.append(
                LecturePlan(
                    lecture_id=lecture.pk,
                    instructor_cookie=sessions.cookie_for(instructor),
                    viewer_cookies=[sessions.cookie_for(student) for student in students],
                    audio=audio,
                )
            )
        sessions.save()
    return plans


@dataclass(frozen=True)
class StoredSegment:
    seq: int
    start_ms: int
    end_ms: int
    text: str
    created_at: float  # Unix time the server stored it


def stored_segments(lecture_ids: Sequence[int]) -> dict[int, list[StoredSegment]]:
    from django.db import close_old_connections

    from captions.models import TranscriptSegment

    result: dict[int, list[StoredSegment]] = {lecture_id: [] for lecture_id in lecture_ids}
    try:
        rows = TranscriptSegment.objects.filter(lecture_id__in=lecture_ids).order_by(
            "lecture_id", "seq"
        )
        for row in rows:
            result[row.lecture_id].append(
                StoredSegment(
                    row.seq, row.start_ms, row.end_ms, row.text, row.created_at.timestamp()
                )
            )
    finally:
        close_old_connections()
    return result


def stored_segments_in_thread(lecture_ids: Sequence[int]) -> dict[int, list[StoredSegment]]:
    """For asyncio.to_thread: the thread's own connection is closed afterwards."""
    from django.db import connection

    try:
        return stored_segments(lecture_ids)
    finally:
        connection.close()
