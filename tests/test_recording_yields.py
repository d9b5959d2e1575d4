"""In the embedded setup a recording's transcription shares the live lectures' model: between
chunks it waits while this process captions a live lecture, and says so in its progress."""

import threading
import time

import pytest
from pytest_django import Settings

from captions import capacity
from classroom import recording_transcription
from tests.conftest import World


@pytest.mark.django_db
def test_a_recording_waits_while_a_live_lecture_is_captioned_here(
    world: World, settings: Settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded setup
    capacity.session_started(world.other_lecture.pk)  # a live lecture on this server
    threading.Timer(1.5, capacity.session_ended, args=[world.other_lecture.pk]).start()
    started = time.monotonic()
    waited = recording_transcription.yield_to_live_lectures(world.lecture.pk, 30.0, 120.0)
    assert waited >= 1.0 and time.monotonic() - started >= 1.0
    progress = recording_transcription.progress_get(world.lecture.pk)
    assert progress is not None and progress["stage"] == "waiting" and progress["percent"] == 25


@pytest.mark.django_db
def test_with_a_worker_or_no_live_lecture_it_does_not_wait(
    world: World, settings: Settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert recording_transcription.yield_to_live_lectures(world.lecture.pk, 30.0, 120.0) == 0.0
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a Celery worker has a model of its own
    capacity.session_started(world.other_lecture.pk)
    try:
        assert recording_transcription.yield_to_live_lectures(world.lecture.pk, 30, 120) == 0.0
    finally:
        capacity.session_ended(world.other_lecture.pk)
