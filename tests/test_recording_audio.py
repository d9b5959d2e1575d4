"""A caption's audio while correcting: the uploaded recording, in byte ranges, only to those
who correct the course's captions (for recordings transcribed before their audio was kept;
`tests/test_lecture_audio.py` tests the kept audio everyone who sees the lecture plays)."""

from django.core.files.base import ContentFile
from django.urls import reverse

from lectures.models import Lecture
from tests.conftest import World, client_for

AUDIO = bytes(range(256)) * 40  # 10,240 bytes standing in for an m4a file


def with_recording(lecture: Lecture) -> None:
    lecture.recording.save("lecture.m4a", ContentFile(AUDIO), save=True)


def test_a_range_is_answered_with_exactly_those_bytes(world: World) -> None:
    with_recording(world.lecture)
    url = reverse("recording_audio", args=[world.lecture.pk])
    response = client_for(world.instructor).get(url, HTTP_RANGE="bytes=1000-1999")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(AUDIO)}"
    assert b"".join(response.streaming_content) == AUDIO[1000:2000]  # type: ignore[attr-defined]
    tail = client_for(world.instructor).get(url, HTTP_RANGE="bytes=-100")
    assert b"".join(tail.streaming_content) == AUDIO[-100:]  # type: ignore[attr-defined]
    beyond = client_for(world.instructor).get(url, HTTP_RANGE=f"bytes={len(AUDIO)}-")
    assert beyond.status_code == 416


def test_the_whole_file_without_a_range(world: World) -> None:
    with_recording(world.lecture)
    response = client_for(world.instructor).get(reverse("recording_audio", args=[world.lecture.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == AUDIO  # type: ignore[attr-defined]
    assert response["Accept-Ranges"] == "bytes"


def test_students_do_not_get_the_recording_and_a_live_lecture_has_none(world: World) -> None:
    url = reverse("recording_audio", args=[world.lecture.pk])
    assert client_for(world.instructor).get(url).status_code == 404  # nothing uploaded
    with_recording(world.lecture)
    assert client_for(world.student).get(url).status_code == 403


def test_correction_mode_offers_the_recording_where_no_audio_is_kept(world: World) -> None:
    page = reverse("lecture_detail", args=[world.lecture.pk]) + "?correct=1"
    body = client_for(world.instructor).get(page).content.decode()
    assert '"audioUrl": ""' in body
    with_recording(world.lecture)
    body = client_for(world.instructor).get(page).content.decode()
    assert reverse("recording_audio", args=[world.lecture.pk]) in body
