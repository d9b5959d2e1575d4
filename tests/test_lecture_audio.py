"""A lecture's kept audio in the archive: served in byte ranges to whoever sees the lecture,
offered on the notes, correction pages and API, deleted with its lecture or after the retention.

The audio is real Ogg Opus written by `ml.media.encode_speech` from a generated signal."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from classroom.audio_retention import expire_kept_audio
from hearus_site.celery import app
from hearus_testkit.speech import pcm16
from lectures.audio import audio_dir, kept_audio, kept_audio_path
from lectures.models import Course, Lecture
from ml.asr import SAMPLE_RATE
from ml.media import decode_media, encode_speech
from tests.conftest import World, client_for, make_user

SECONDS = 20.0


def tones(seconds: float = SECONDS) -> bytes:
    """A tone whose pitch steps every second (something to hear, and to tell seconds apart)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 220.0 * (1 + np.floor(t) % 4)
    return pcm16(0.3 * np.sin(2 * np.pi * pitch * t).astype(np.float32))


def keep_audio(lecture: Lecture, seconds: float = SECONDS) -> Path:
    path = kept_audio_path(lecture.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    encode_speech([tones(seconds)], path)
    return path


def audio_url(lecture: Lecture) -> str:
    return reverse("lecture_audio", args=[lecture.pk])


def body(response: HttpResponseBase) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.fixture
def kept(world: World) -> bytes:
    """Course A's lecture, ended, with 20 s of kept audio; the file's bytes."""
    Lecture.objects.filter(pk=world.lecture.pk).update(
        status=Lecture.Status.READY, ended_at=timezone.now()
    )
    return keep_audio(world.lecture).read_bytes()


# -- byte ranges -----------------------------------------------------------------------------------


def test_the_whole_file_plays_without_a_range_as_private_ogg(world: World, kept: bytes) -> None:
    response = client_for(world.student).get(audio_url(world.lecture))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(kept))
    assert response["Cache-Control"] == "private, no-cache"
    assert body(response) == kept
    assert kept[:4] == b"OggS"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes (the player reads the header)
        ("bytes=1000-", 1000, None),  # from the middle to the end (a seek)
        ("bytes=2000-2999", 2000, 2999),  # a middle stretch
        ("bytes=-500", -500, None),  # the last bytes (the player looks for the duration)
        ("bytes=100-999999999", 100, None),  # past the end: cut at the end
    ],
)
def test_a_range_is_answered_with_exactly_those_bytes(
    world: World, kept: bytes, header: str, first: int, last: int | None
) -> None:
    response = client_for(world.student).get(audio_url(world.lecture), HTTP_RANGE=header)
    size = len(kept)
    start = first % size
    end = size - 1 if last is None else last
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"] == "private, no-cache"
    assert body(response) == kept[start : end + 1]


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{beyond}", "bytes=50-10"])
def test_a_range_past_the_end_is_416_with_the_size(world: World, kept: bytes, header: str) -> None:
    size = len(kept)
    asked = header.format(size=size, beyond=size + 100)
    response = client_for(world.student).get(audio_url(world.lecture), HTTP_RANGE=asked)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_several_ranges_or_another_unit_get_the_whole_file(world: World, kept: bytes) -> None:
    for header in ("bytes=0-1,5-9", "items=0-5"):
        response = client_for(world.student).get(audio_url(world.lecture), HTTP_RANGE=header)
        assert response.status_code == 200
        assert body(response) == kept


def test_a_browser_revalidates_and_never_splices_two_versions(world: World, kept: bytes) -> None:
    client = client_for(world.student)
    first = client.get(audio_url(world.lecture), HTTP_RANGE="bytes=0-99")
    etag = first["ETag"]
    assert client.get(audio_url(world.lecture), HTTP_IF_NONE_MATCH=etag).status_code == 304
    same = client.get(audio_url(world.lecture), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert same.status_code == 206

    keep_audio(world.lecture, SECONDS / 2)  # transcribed again: a new file

    newer = client.get(audio_url(world.lecture), HTTP_IF_NONE_MATCH=etag)
    assert newer.status_code == 200 and newer["ETag"] != etag
    # The rest of the old version is asked for: the whole new file comes instead.
    rest = client.get(audio_url(world.lecture), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert rest.status_code == 200
    assert body(rest) == kept_audio_path(world.lecture.pk).read_bytes() != kept


# -- who may listen --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("student", 200),
        ("instructor", 200),
        ("staff", 200),
        ("other_student", 404),
        ("other_instructor", 404),
    ],
)
def test_access_follows_the_lectures(world: World, kept: bytes, role: str, status: int) -> None:
    response = client_for(world.user(role)).get(audio_url(world.lecture))
    assert response.status_code == status


def test_a_captioner_of_the_course_listens_too(world: World, kept: bytes) -> None:
    captioner = make_user("captioner")
    world.course.captioners.add(captioner)
    assert client_for(captioner).get(audio_url(world.lecture)).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(world: World, kept: bytes) -> None:
    response = Client().get(audio_url(world.lecture))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_lecture_without_kept_audio_is_404(world: World) -> None:
    assert kept_audio(world.lecture.pk) is None
    assert client_for(world.staff).get(audio_url(world.lecture)).status_code == 404
    assert client_for(world.staff).get(audio_url(world.lecture) + "x").status_code == 404


# -- where it is offered ---------------------------------------------------------------------------


def test_the_api_gives_the_audio_url_or_null(world: World) -> None:
    url = reverse("lecture-detail", args=[world.lecture.pk])
    assert client_for(world.student).get(url).json()["audio_url"] is None
    keep_audio(world.lecture, 2.0)
    assert client_for(world.student).get(url).json()["audio_url"] == audio_url(world.lecture)
    listed = client_for(world.student).get(reverse("lecture-list")).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["audio_url"] for row in rows] == [audio_url(world.lecture)]


def notes_page(world: World, user: Any, query: str = "") -> str:
    url = reverse("lecture_detail", args=[world.lecture.pk]) + query
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_notes_page_has_a_player_and_a_play_button_per_caption(
    world: World, kept: bytes
) -> None:
    html = notes_page(world, world.student)
    assert (
        f'<audio id="lecture-audio" controls preload="metadata" src="{audio_url(world.lecture)}"'
        in html
    )
    assert html.count('class="play-from no-print"') == world.lecture.segments.count()
    assert 'data-start="0" aria-label="Play from 0:00"' in html


def test_without_kept_audio_the_notes_page_has_neither(world: World) -> None:
    html = notes_page(world, world.student)
    assert "lecture-audio" not in html and "play-from" not in html


def test_the_correction_page_plays_the_caption_from_its_start_to_its_end(
    world: World, kept: bytes
) -> None:
    url = reverse("caption_correct", args=[world.lecture.pk, 1])
    html = client_for(world.instructor).get(url).content.decode()
    assert f'src="{audio_url(world.lecture)}"' in html
    assert 'id="play-caption" data-start="0" data-end="1500"' in html
    assert "js/play-caption.js" in html
    inline = notes_page(world, world.instructor, "?correct=1")
    assert f'"audioUrl": "{audio_url(world.lecture)}"' in inline


# -- how long it is kept ---------------------------------------------------------------------------


def ended(world: World, lecture: Lecture, days_ago: float, status: str = "ready") -> Lecture:
    Lecture.objects.filter(pk=lecture.pk).update(
        status=status, ended_at=timezone.now() - timedelta(days=days_ago)
    )
    keep_audio(lecture, 1.0)
    return lecture


def test_the_sweep_deletes_audio_older_than_the_retention(world: World, settings: Settings) -> None:
    old = ended(world, world.lecture, days_ago=31)
    recent = ended(world, world.other_lecture, days_ago=29)
    settings.LECTURE_AUDIO_RETENTION_DAYS = 30

    assert expire_kept_audio() == [old.pk]

    assert not audio_dir(old.pk).exists()
    assert kept_audio(recent.pk) is not None
    assert client_for(world.student).get(audio_url(old)).status_code == 404
    assert old.segments.exists()  # the captions stay


def test_a_retention_of_zero_keeps_audio_while_the_lecture_exists(
    world: World, settings: Settings
) -> None:
    ended(world, world.lecture, days_ago=3650)
    settings.LECTURE_AUDIO_RETENTION_DAYS = 0
    assert expire_kept_audio() == []
    assert kept_audio(world.lecture.pk) is not None


def test_the_sweep_spares_a_resumed_lecture_and_one_that_never_ended(
    world: World, settings: Settings
) -> None:
    settings.LECTURE_AUDIO_RETENTION_DAYS = 1
    ended(world, world.lecture, days_ago=5, status=Lecture.Status.LIVE)
    Lecture.objects.filter(pk=world.other_lecture.pk).update(ended_at=None)
    keep_audio(world.other_lecture, 1.0)
    assert expire_kept_audio() == []


def test_the_sweep_deletes_the_audio_of_a_lecture_that_is_gone(
    world: World, settings: Settings
) -> None:
    settings.LECTURE_AUDIO_RETENTION_DAYS = 30
    orphan = audio_dir(10**9)
    orphan.mkdir(parents=True)
    (orphan / "lecture.ogg").write_bytes(b"OggS")
    assert expire_kept_audio() == [10**9]
    assert not orphan.exists()


def test_the_sweep_runs_under_celery_beat(settings: Settings) -> None:
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "classroom.expire_kept_audio" in schedule
    assert "classroom.expire_kept_audio" in app.tasks


# -- deleted with its lecture ----------------------------------------------------------------------


def test_deleting_a_lecture_deletes_its_audio(
    world: World, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    keep_audio(world.lecture, 1.0)
    keep_audio(world.other_lecture, 1.0)
    folder = audio_dir(world.lecture.pk)
    with django_capture_on_commit_callbacks(execute=True):
        world.lecture.delete()
    assert not folder.exists()
    assert kept_audio(world.other_lecture.pk) is not None


def test_deleting_a_course_deletes_the_audio_of_all_its_lectures(
    world: World, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    second = Lecture.objects.create(
        course=world.course, title="2주차", scheduled_at=world.lecture.scheduled_at
    )
    ids = [world.lecture.pk, second.pk]
    for lecture in (world.lecture, second):
        keep_audio(lecture, 1.0)
    with django_capture_on_commit_callbacks(execute=True):
        Course.objects.filter(pk=world.course.pk).delete()
    assert [audio_dir(pk).exists() for pk in ids] == [False, False]
    assert kept_audio(world.other_lecture.pk) is None  # never had any: untouched, no error


def test_a_deletion_rolled_back_keeps_the_audio(
    world: World, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    path = keep_audio(world.lecture, 1.0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        world.lecture.delete()
    assert len(callbacks) == 1  # would run only on commit
    assert path.is_file()


# -- what is kept is playable ----------------------------------------------------------------------


def test_kept_audio_decodes_back_to_its_length(world: World) -> None:
    path = keep_audio(world.lecture, 3.0)
    assert len(decode_media(path)) / SAMPLE_RATE == pytest.approx(3.0, abs=0.05)
