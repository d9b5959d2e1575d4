"""Shared fixtures: two courses, each with its instructor and a student, plus a staff user.

A test that needs a system tool which is not installed (espeak-ng, Chromium, Java: the kit raises
`hearus_testkit.tools.MissingTool`) is skipped, or fails where HEARUS_REQUIRE_TOOLS=1 (CI)."""

import os
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from captions.models import TranscriptSegment
from hearus_testkit.tools import MissingTool
from lectures.models import Course, Enrollment, Lecture

PASSWORD = "correct-horse-battery"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A missing tool skips the test, in its fixtures or its body, unless tools are required."""
    report = yield
    missing = call.excinfo is not None and call.excinfo.errisinstance(MissingTool)
    if missing and call.when != "teardown" and os.environ.get("HEARUS_REQUIRE_TOOLS") != "1":
        assert call.excinfo is not None
        path, line, _name = item.reportinfo()
        report.outcome = "skipped"
        report.longrepr = (os.fspath(path), (line or 0) + 1, f"Skipped: {call.excinfo.value}")
    return report


@pytest.fixture(autouse=True)
def _no_lecture_audio_left_behind() -> Generator[None, None, None]:
    """Each test starts without kept audio: lecture ids come again (rolled back), files do not."""
    yield
    shutil.rmtree(settings.LECTURE_AUDIO_ROOT, ignore_errors=True)


def make_user(username: str, *, role: str = User.Role.STUDENT, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, is_staff=staff)
    return user


@dataclass
class World:
    """Course A (the one under test) and course B (another course that must never leak)."""

    course: Course
    other_course: Course
    student: User
    other_student: User
    instructor: User
    other_instructor: User
    staff: User
    lecture: Lecture
    other_lecture: Lecture

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(db: None) -> World:
    instructor = make_user("ins_a", role=User.Role.INSTRUCTOR)
    other_instructor = make_user("ins_b", role=User.Role.INSTRUCTOR)
    student = make_user("stu_a")
    other_student = make_user("stu_b")
    staff = make_user("staff", staff=True)
    course = Course.objects.create(code="AI101", title="인공지능 개론")
    course.instructors.add(instructor)
    other_course = Course.objects.create(code="DB201", title="Databases", language="en")
    other_course.instructors.add(other_instructor)
    Enrollment.objects.create(course=course, student=student)
    Enrollment.objects.create(course=other_course, student=other_student)
    soon = timezone.now() + timedelta(days=1)
    lecture = Lecture.objects.create(course=course, title="1주차", scheduled_at=soon)
    other_lecture = Lecture.objects.create(course=other_course, title="Week 1", scheduled_at=soon)
    TranscriptSegment.objects.create(
        lecture=lecture, seq=1, start_ms=0, end_ms=1500, text="수업을 시작하겠습니다."
    )
    TranscriptSegment.objects.create(
        lecture=other_lecture, seq=1, start_ms=0, end_ms=1500, text="SECRET-OTHER-COURSE"
    )
    return World(
        course=course,
        other_course=other_course,
        student=student,
        other_student=other_student,
        instructor=instructor,
        other_instructor=other_instructor,
        staff=staff,
        lecture=lecture,
        other_lecture=other_lecture,
    )


def client_for(user: User | None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client
