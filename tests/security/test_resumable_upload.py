"""Recordings upload in parts that go straight to storage, resume after a drop, and are checked
like any upload; a single request larger than REQUEST_MAX_BYTES is refused from its headers
(issue 15, item 3). The memory figure is in tests/security/test_upload_memory.py."""

import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from captions.models import TranscriptSegment
from classroom.recording_transcription import recording_storage as _storage
from hearus_testkit.encoding import encode
from hearus_testkit.speech import synthesize_wav
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.models import Lecture
from ml.audio import read_wav
from tests.conftest import World, client_for
from tests.daphne_server import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

PART = 16 * 1024


@pytest.fixture(scope="module")
def speech_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wav = synthesize_wav(ENGLISH_TEXT, "en-us", tmp_path_factory.mktemp("upload"))
    return encode(read_wav(wav), wav.with_name("talk.mp3"), "libmp3lame", rate=44_100)


@pytest.fixture
def lecture(world: World, settings: Settings) -> Lecture:
    settings.RECORDING_PART_BYTES = PART
    world.course.language = "en"
    world.course.save()
    return Lecture.objects.create(
        course=world.course, title="Recorded", scheduled_at=world.lecture.scheduled_at
    )


def start(client: Client, lecture: Lecture, size: int) -> Any:
    return client.post(
        f"/api/lectures/{lecture.pk}/recording/uploads/",
        {"size": size},
        content_type="application/json",
    )


def put(client: Client, lecture: Lecture, upload_id: str, offset: int, data: bytes) -> Any:
    return client.put(
        f"/api/lectures/{lecture.pk}/recording/uploads/{upload_id}/?offset={offset}",
        data,
        content_type="application/octet-stream",
    )


def leftovers(upload_id: str) -> list[str]:
    """Files left of an upload (storage cannot delete its empty folder)."""
    try:
        return _storage().listdir(f"recording-uploads/{upload_id}")[1]
    except FileNotFoundError:
        return []


def test_an_upload_in_parts_survives_a_drop_and_is_transcribed(
    world: World, lecture: Lecture, speech_mp3: Path
) -> None:
    data = speech_mp3.read_bytes()
    client = client_for(world.instructor)
    started = start(client, lecture, len(data))
    assert started.status_code == 201
    upload = started.json()
    assert upload["offset"] == 0 and upload["part_bytes"] == PART
    url_id = upload["id"]
    offset = 0
    for _ in range(2):
        answer = put(client, lecture, url_id, offset, data[offset : offset + PART])
        assert answer.status_code == 200
        offset = answer.json()["offset"]
    # The connection drops; the client no longer knows whether its last part arrived and
    # sends it again: refused, with the offset to continue from.
    repeated = put(client, lecture, url_id, offset - PART, data[offset - PART : offset])
    assert repeated.status_code == 409
    assert repeated.json()["offset"] == offset
    status = client.get(f"/api/lectures/{lecture.pk}/recording/uploads/{url_id}/")
    assert status.json()["offset"] == offset
    while offset < len(data):
        answer = put(client, lecture, url_id, offset, data[offset : offset + PART])
        offset = answer.json()["offset"]
    assert answer.status_code == 202
    assert answer.json()["recording"]["has_recording"]
    lecture.refresh_from_db()
    assert lecture.recording.name.endswith(".mp3")
    with _storage().open(lecture.recording.name, "rb") as stored:
        assert stored.read() == data
    text = " ".join(
        TranscriptSegment.objects.filter(lecture=lecture).values_list("text", flat=True)
    )
    assert "lecture" in text.lower()
    assert leftovers(url_id) == []


def test_an_upload_over_the_limit_is_refused_before_any_byte(
    world: World, lecture: Lecture, settings: Settings
) -> None:
    settings.RECORDING_MAX_BYTES = 10 * PART
    answer = start(client_for(world.instructor), lecture, 10 * PART + 1)
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"


def test_parts_must_fit_the_part_size_and_the_file(world: World, lecture: Lecture) -> None:
    client = client_for(world.instructor)
    upload_id = start(client, lecture, 3 * PART).json()["id"]
    assert put(client, lecture, upload_id, 0, b"\x00" * (PART + 1)).status_code == 413
    assert put(client, lecture, upload_id, 0, b"\x00" * PART).status_code == 200
    assert put(client, lecture, upload_id, PART, b"").status_code in (400, 413)
    assert put(client, lecture, upload_id, 5 * PART, b"\x00").status_code == 409


def test_nobody_else_can_see_or_continue_an_upload(world: World, lecture: Lecture) -> None:
    upload_id = start(client_for(world.instructor), lecture, PART).json()["id"]
    path = f"/api/lectures/{lecture.pk}/recording/uploads/{upload_id}/"
    assert client_for(world.student).get(path).status_code == 404
    assert client_for(world.other_instructor).get(path).status_code == 404
    assert client_for(world.staff).get(path).status_code == 404  # not theirs
    assert put(client_for(world.staff), lecture, upload_id, 0, b"\x00").status_code == 404
    assert Client().get(path).status_code == 401


def test_a_file_that_is_not_media_is_refused_when_complete_and_nothing_is_left(
    world: World, lecture: Lecture
) -> None:
    client = client_for(world.instructor)
    data = b"%PDF-1.7\n" + b"x" * (PART + 100)
    upload_id = start(client, lecture, len(data)).json()["id"]
    put(client, lecture, upload_id, 0, data[:PART])
    answer = put(client, lecture, upload_id, PART, data[PART:])
    assert answer.status_code == 400
    assert answer.json()["code"] == "not_media"
    lecture.refresh_from_db()
    assert not lecture.recording
    assert leftovers(upload_id) == []


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne_server({"REQUEST_MAX_BYTES": str(1024 * 1024)}) as base_url:
        yield base_url


def test_a_request_larger_than_the_limit_is_refused_from_its_headers(
    world: World, server: str
) -> None:
    """Before: Daphne read 520 MB into memory, then Django answered 413 after 65 s."""
    address = urllib.parse.urlsplit(server)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(
            b"POST /api/lectures/1/recording/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 545259520\r\n\r\n" + b"x" * 1000
        )
        answer = raw.recv(4096).decode()  # no more body is sent: the answer comes at once
    assert answer.startswith("HTTP/1.1 413")
    assert "recording/uploads" in answer
