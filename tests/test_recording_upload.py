"""Uploading a recording: checked by content and size, transcribed on the `media` task with
progress, stored all at once, failed with a reason and retried; never mixed with live captions.

Real speech (espeak-ng, English) encoded by PyAV; the server's Whisper model transcribes it.
Tasks run synchronously once the upload commits (test settings), hence transactional tests.
"""

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never ask the hub

import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django import Settings

import ml.offline
from captions.models import TranscriptSegment
from classroom import recording_transcription
from classroom.recording_transcription import recording_storage as _storage
from hearus_testkit.encoding import encode
from hearus_testkit.speech import synthesize_wav
from hearus_testkit.texts import ENGLISH_TEXT
from lectures.audio import audio_dir, kept_audio
from lectures.events import lecture_group
from lectures.models import Lecture
from ml.asr import SAMPLE_RATE
from ml.audio import read_wav
from ml.error_rates import word_error_rate
from ml.media import decode_media
from ml.offline import chunk_bounds
from tests.captions.conftest import Socket, viewer_path
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db(transaction=True)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_wav(ENGLISH_TEXT, "en-us", tmp_path_factory.mktemp("recording"))


@pytest.fixture(scope="module")
def speech_mp3(speech_wav: Path) -> Path:
    return encode(read_wav(speech_wav), speech_wav.with_name("talk.mp3"), "libmp3lame", rate=44_100)


@pytest.fixture(scope="module")
def speech_webm(speech_wav: Path) -> Path:
    return encode(read_wav(speech_wav), speech_wav.with_name("talk.webm"), "libopus", rate=48_000)


@pytest.fixture
def lecture(world: World) -> Lecture:
    """A scheduled English lecture of course A, never broadcast, without captions."""
    world.course.language = "en"
    world.course.save()
    for name in stored_files():  # the test storage lives in memory, across tests
        _storage().delete(name)
    return Lecture.objects.create(
        course=world.course, title="Recorded", scheduled_at=world.lecture.scheduled_at
    )


@pytest.fixture
def events(lecture: Lecture) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every message published to the lecture's sockets from now on (call to collect)."""
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(lecture_group(lecture.pk), channel)

    async def drain() -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                event = await asyncio.wait_for(layer.receive(channel), 0.2)
                received.append(event["message"])
            except TimeoutError:
                return received

    yield lambda: async_to_sync(drain)()
    async_to_sync(layer.group_discard)(lecture_group(lecture.pk), channel)


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def upload_url(lecture: Lecture) -> str:
    return reverse("recording_upload", args=[lecture.pk])


def stored_files() -> list[str]:
    storage = _storage()

    def walk(folder: str) -> list[str]:
        folders, files = storage.listdir(folder)
        found = [f"{folder}/{name}".lstrip("/") for name in files]
        for sub in folders:
            found += walk(f"{folder}/{sub}".lstrip("/"))
        return found

    try:
        return walk("")
    except FileNotFoundError:
        return []


def rows(lecture: Lecture) -> list[tuple[Any, ...]]:
    return list(
        TranscriptSegment.objects.filter(lecture=lecture)
        .order_by("seq")
        .values_list("seq", "start_ms", "end_ms", "text")
    )


def assert_audio_kept(lecture: Lecture, recording: Path) -> Path:
    """The recording's audio is kept, playable, on the captions' time line (same length as the
    recording; second 0 its start), and no half-written file is left beside it."""
    kept = kept_audio(lecture.pk)
    assert kept is not None
    assert kept.read_bytes()[:4] == b"OggS"
    assert len(decode_media(kept)) / SAMPLE_RATE == pytest.approx(
        len(decode_media(recording)) / SAMPLE_RATE, abs=0.03
    )
    assert [path.name for path in audio_dir(lecture.pk).iterdir()] == [kept.name]
    return kept


def assert_transcribed(lecture: Lecture, duration_s: float) -> None:
    lecture.refresh_from_db()
    segments = rows(lecture)
    assert segments, lecture.failure_reason
    assert [seq for seq, *_ in segments] == list(range(1, len(segments) + 1))
    last_end = 0
    for _seq, start_ms, end_ms, text in segments:
        assert last_end <= start_ms <= end_ms <= duration_s * 1000 + 500
        assert text.strip()
        last_end = end_ms
    text = " ".join(text for *_, text in segments)
    assert word_error_rate(ENGLISH_TEXT, text) < 0.35, text
    # The notes run after; the summarizer may not be installed in every checkout yet.
    assert lecture.status in (Lecture.Status.READY, Lecture.Status.FAILED)
    if lecture.status == Lecture.Status.FAILED:
        assert "ranscri" not in lecture.failure_reason, lecture.failure_reason


# -- the whole path ------------------------------------------------------------------------------


def test_an_instructor_uploads_a_wav_and_the_lecture_gets_timed_captions(
    world: World, lecture: Lecture, speech_wav: Path, events: Callable[[], list[dict[str, Any]]]
) -> None:
    response = client_for(world.instructor).post(upload_url(lecture), {"file": upload(speech_wav)})

    assert response.status_code == 302
    assert response["Location"] == reverse("lecture_detail", args=[lecture.pk])
    assert_transcribed(lecture, duration_s=10.1)
    assert lecture.recording.name.endswith(".wav")
    assert lecture.ended_at is not None
    assert_audio_kept(lecture, speech_wav)
    audio = client_for(world.student).get(reverse("lecture_audio", args=[lecture.pk]))
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/ogg"
    published = events()
    stages = [e["stage"] for e in published if e["type"] == "progress"]
    assert stages[:3] == ["queued", "decoding", "transcribing"]
    assert stages[-2:] == ["storing", "notes"]
    done = [e for e in published if e["type"] == "progress" and e["stage"] == "transcribing"]
    assert done[-1]["percent"] == 100 and done[-1]["done_s"] == done[-1]["total_s"]
    assert done[-1]["total_s"] == pytest.approx(10.0, abs=0.5)
    statuses = [e["status"] for e in published if e["type"] == "status"]
    assert statuses[:2] == ["processing", "ended"]


def test_the_file_type_comes_from_its_content_not_its_name(
    world: World, lecture: Lecture, speech_webm: Path, settings: Settings
) -> None:
    """A WEBM/Opus file called .mp3, transcribed in chunks (progress after each)."""
    settings.RECORDING_CHUNK_S = 4.0
    seen: list[tuple[str, int]] = []
    real_set = recording_transcription.progress_set

    def spy(lecture_id: int, stage: str, percent: int, **kwargs: Any) -> None:
        seen.append((stage, percent))
        real_set(lecture_id, stage, percent, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recording_transcription, "progress_set", spy)
        response = client_for(world.instructor).post(
            upload_url(lecture), {"file": upload(speech_webm, "lecture.mp3")}
        )

    assert response.status_code == 302
    assert_transcribed(lecture, duration_s=10.2)
    assert lecture.recording.name.endswith(".webm")
    transcribing = [percent for stage, percent in seen if stage == "transcribing"]
    assert len(transcribing) >= 4  # 0 %, then one report per chunk of about 4 s
    assert transcribing == sorted(transcribing) and transcribing[-1] == 100


def test_the_api_takes_a_multipart_upload_and_reports_the_status(
    world: World, lecture: Lecture, speech_mp3: Path
) -> None:
    client = client_for(world.instructor)
    url = f"/api/lectures/{lecture.pk}/recording/"

    response = client.post(url, {"file": upload(speech_mp3, "talk.bin")})

    assert response.status_code == 202, response.content
    assert response.json()["lecture"] == lecture.pk
    assert_transcribed(lecture, duration_s=10.2)
    state = client.get(url).json()
    assert state["status"] == lecture.status and state["has_recording"] is True
    assert state["progress"] is None  # finished


def test_a_redelivered_task_gives_the_same_rows_and_a_stale_one_does_nothing(
    world: World, lecture: Lecture, speech_wav: Path
) -> None:
    client_for(world.instructor).post(upload_url(lecture), {"file": upload(speech_wav)})
    lecture.refresh_from_db()
    first = rows(lecture)
    assert first

    # As if the worker died after storing but before acknowledging: the task runs again.
    Lecture.objects.filter(pk=lecture.pk).update(status=Lecture.Status.PROCESSING)
    recording_transcription.transcribe_recording.apply(
        args=[lecture.pk, lecture.recording.name]
    ).get()
    assert rows(lecture) == first

    Lecture.objects.filter(pk=lecture.pk).update(status=Lecture.Status.PROCESSING)
    assert recording_transcription.transcribe_recording.apply(
        args=[lecture.pk, "recordings/old.wav"]
    ).get() == ("superseded")
    # Not processing: a late redelivery of a finished task changes nothing.
    Lecture.objects.filter(pk=lecture.pk).update(status=Lecture.Status.READY)
    assert recording_transcription.transcribe_recording.apply(args=[lecture.pk]).get() == "ready"
    assert rows(lecture) == first


def test_a_new_recording_replaces_the_transcript_of_the_previous_one(
    world: World, lecture: Lecture, speech_wav: Path, tmp_path: Path
) -> None:
    client = client_for(world.instructor)
    client.post(upload_url(lecture), {"file": upload(speech_wav)})
    lecture.refresh_from_db()
    old_name = lecture.recording.name
    old_audio = assert_audio_kept(lecture, speech_wav).stat().st_ino
    quiet = tmp_path / "short.wav"
    quiet.write_bytes(speech_wav.read_bytes())  # the same speech again: same rows, new file

    response = client.post(upload_url(lecture), {"file": upload(quiet)})

    assert response.status_code == 302
    lecture.refresh_from_db()
    assert lecture.recording.name != old_name
    assert stored_files() == [lecture.recording.name]  # the old file is gone
    assert_transcribed(lecture, duration_s=10.1)
    assert assert_audio_kept(lecture, quiet).stat().st_ino != old_audio  # replaced, by a rename


# -- refusals --------------------------------------------------------------------------------------


def assert_untouched(lecture: Lecture) -> None:
    before = (lecture.status, lecture.recording.name, rows(lecture))
    lecture.refresh_from_db()
    assert (lecture.status, lecture.recording.name, rows(lecture)) == before
    assert stored_files() == []


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 20, "a PDF"),
        ("강의 노트: 선형 회귀와 경사 하강법\n".encode() * 50, "a text file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
    ],
)
def test_a_file_that_is_not_media_is_refused_by_content_whatever_its_name(
    world: World, lecture: Lecture, content: bytes, looks_like: str
) -> None:
    file = SimpleUploadedFile("lecture.mp3", content, content_type="audio/mpeg")

    response = client_for(world.instructor).post(upload_url(lecture), {"file": file})

    assert response.status_code == 400
    html = response.content.decode()
    assert "This file is not audio or video we can read" in html
    assert f"it looks like {looks_like}" in html
    # The error is tied to the field for screen readers, and summarised at the top.
    assert 'aria-invalid="true"' in html and "recording-error-1" in html
    assert 'href="#recording-file"' in html
    assert_untouched(lecture)


def test_an_oversized_file_is_refused_before_it_is_read(
    world: World, lecture: Lecture, speech_wav: Path, settings: Settings
) -> None:
    settings.RECORDING_MAX_BYTES = 100_000

    response = client_for(world.instructor).post(upload_url(lecture), {"file": upload(speech_wav)})

    assert response.status_code == 400
    assert "The file is 0.3 MB; recordings may be at most 0.1 MB" in response.content.decode()
    api = client_for(world.instructor).post(
        f"/api/lectures/{lecture.pk}/recording/", {"file": upload(speech_wav)}
    )
    assert api.status_code == 413
    assert api.json()["code"] == "too_large"
    assert_untouched(lecture)


def test_a_recording_longer_than_the_limit_is_refused(
    world: World, lecture: Lecture, speech_wav: Path, settings: Settings
) -> None:
    settings.RECORDING_MAX_SECONDS = 5

    response = client_for(world.instructor).post(upload_url(lecture), {"file": upload(speech_wav)})

    assert response.status_code == 400
    assert "The recording is 0:00:10 long; at most 0:00:05 is accepted" in (
        response.content.decode()
    )
    assert_untouched(lecture)


def test_an_empty_file_or_none_is_refused_with_a_reason(world: World, lecture: Lecture) -> None:
    client = client_for(world.instructor)
    empty = client.post(upload_url(lecture), {"file": SimpleUploadedFile("a.wav", b"")})
    assert empty.status_code == 400  # Django's form keeps an empty file out of request.FILES
    none = client.post(f"/api/lectures/{lecture.pk}/recording/", {})
    assert none.status_code == 400
    assert none.json()["code"] == "required"
    assert_untouched(lecture)


@pytest.mark.parametrize(("role", "status"), [("student", 403), ("other_instructor", 404)])
def test_only_the_courses_instructors_upload(
    world: World, lecture: Lecture, speech_wav: Path, role: str, status: int
) -> None:
    user = world.user(role)
    page = client_for(user).post(upload_url(lecture), {"file": upload(speech_wav)})
    api = client_for(user).post(
        f"/api/lectures/{lecture.pk}/recording/", {"file": upload(speech_wav)}
    )
    assert (page.status_code, api.status_code) == (status, status)
    assert_untouched(lecture)


def test_a_lecture_with_live_captions_never_takes_a_recording(
    world: World, speech_wav: Path
) -> None:
    lecture = world.lecture  # has a caption broadcast live
    lecture.status = Lecture.Status.READY
    lecture.save()
    client = client_for(world.instructor)

    page = client.post(upload_url(lecture), {"file": upload(speech_wav)})
    api = client.post(f"/api/lectures/{lecture.pk}/recording/", {"file": upload(speech_wav)})

    assert page.status_code == 400
    assert "already has live captions" in page.content.decode()
    assert api.status_code == 409 and api.json()["code"] == "live_captions"
    assert_untouched(lecture)
    # The lecture's own controls say why, and offer no form.
    form_page = client.get(upload_url(lecture)).content.decode()
    assert "already has live captions" in form_page and 'id="recording-file"' not in form_page


def test_a_live_or_processing_lecture_takes_no_recording(
    world: World, lecture: Lecture, speech_wav: Path
) -> None:
    for status in (Lecture.Status.LIVE, Lecture.Status.PROCESSING):
        lecture.status = status
        lecture.save()
        response = client_for(world.instructor).post(
            f"/api/lectures/{lecture.pk}/recording/", {"file": upload(speech_wav)}
        )
        assert response.status_code == 409, status
        assert_untouched(lecture)


# -- failures and retry ----------------------------------------------------------------------------


def test_a_failure_midway_leaves_no_captions_and_a_reason_then_retry_succeeds(
    world: World, lecture: Lecture, speech_wav: Path, settings: Settings
) -> None:
    settings.RECORDING_CHUNK_S = 4.0
    real = ml.offline.transcribe_whole
    calls: list[int] = []

    def fails_on_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the GPU fell off the bus")
        return real(*args, **kwargs)

    client = client_for(world.instructor)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ml.offline, "transcribe_whole", fails_on_the_second_chunk)
        client.post(upload_url(lecture), {"file": upload(speech_wav)})

    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    assert "the GPU fell off the bus" in lecture.failure_reason
    assert rows(lecture) == []
    assert recording_transcription.progress_get(lecture.pk) is None
    assert not list(audio_dir(lecture.pk).iterdir())  # its audio is kept only with captions
    page = client.get(upload_url(lecture)).content.decode()
    assert "the GPU fell off the bus" in page
    assert reverse("recording_retry", args=[lecture.pk]) in page

    response = client.post(reverse("recording_retry", args=[lecture.pk]))

    assert response.status_code == 302
    assert_transcribed(lecture, duration_s=10.1)
    assert_audio_kept(lecture, speech_wav)
    assert lecture.failure_reason == "" or lecture.status == Lecture.Status.FAILED


def test_a_damaged_file_that_passes_the_check_fails_with_the_decoders_reason(
    world: World, lecture: Lecture, speech_wav: Path
) -> None:
    header_only = SimpleUploadedFile("talk.wav", speech_wav.read_bytes()[:44])
    client = client_for(world.instructor)

    response = client.post(upload_url(lecture), {"file": header_only})

    assert response.status_code == 302  # accepted: a WAV header with an audio track
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    assert "could not be decoded" in lecture.failure_reason
    assert "no sound could be decoded" in lecture.failure_reason
    assert rows(lecture) == []
    # Retrying the same damaged file fails the same way; uploading a good one works.
    client.post(reverse("recording_retry", args=[lecture.pk]))
    lecture.refresh_from_db()
    assert lecture.status == Lecture.Status.FAILED
    client.post(upload_url(lecture), {"file": upload(speech_wav)})
    assert_transcribed(lecture, duration_s=10.1)


def test_retry_is_refused_unless_the_recording_failed(world: World, lecture: Lecture) -> None:
    response = client_for(world.instructor).post(f"/api/lectures/{lecture.pk}/recording/retry/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


# -- progress on the page -------------------------------------------------------------------


def test_the_page_shows_progress_and_the_json_follows_it(world: World, lecture: Lecture) -> None:
    lecture.recording.name = "recordings/2026/01/lecture.wav"
    lecture.status = Lecture.Status.PROCESSING
    lecture.save()
    recording_transcription.progress_set(lecture.pk, "transcribing", 40, done_s=720, total_s=1800)

    html = client_for(world.instructor).get(upload_url(lecture)).content.decode()
    state = client_for(world.student).get(reverse("recording_progress", args=[lecture.pk]))

    assert '<progress id="recording-progress-bar" max="100" value="40"' in html
    assert "Transcribing: 12:00 of 30:00 (40%)" in html
    assert 'aria-live="polite"' in html and "js/recording.js" in html
    assert state.json()["progress"] == {
        "stage": "transcribing",
        "percent": 40,
        "done_s": 720.0,
        "total_s": 1800.0,
    }
    assert state.json()["failure_reason"] == ""


def test_the_upload_form_states_its_limits_and_formats(world: World, lecture: Lecture) -> None:
    html = client_for(world.instructor).get(upload_url(lecture)).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="recording-file">' in html
    assert 'aria-describedby="recording-help"' in html
    assert "at most 500 MB and 4 hours" in html and "WAV, MP3" in html
    assert "will then not be broadcast live" in html  # it is scheduled


@pytest.fixture
async def viewer(world: World, lecture: Lecture) -> AsyncIterator[Socket]:
    socket = await Socket(viewer_path(lecture.pk), world.student).open()
    yield socket
    await socket.close()


async def test_viewers_get_progress_messages_over_the_websocket(
    lecture: Lecture, viewer: Socket
) -> None:
    await viewer.receive_until("snapshot")

    await sync_to_async(recording_transcription.progress_set)(
        lecture.pk, "transcribing", 25, done_s=2.5, total_s=10.0
    )

    message = await viewer.receive_until("progress")
    assert message == {
        "type": "progress",
        "stage": "transcribing",
        "percent": 25,
        "done_s": 2.5,
        "total_s": 10.0,
    }


# -- chunking --------------------------------------------------------------------------------


def test_chunks_cover_the_audio_and_are_cut_in_its_quietest_moment() -> None:
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(SAMPLE_RATE * 25) * 0.3).astype(np.float32)
    audio[round(8.5 * SAMPLE_RATE) : round(8.7 * SAMPLE_RATE)] = 0.0  # a pause before 10 s

    bounds = chunk_bounds(audio, chunk_s=10.0, search_s=3.0)

    assert bounds[0][0] == 0 and bounds[-1][1] == audio.size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert all(end - start <= 10 * SAMPLE_RATE for start, end in bounds)
    assert 8.5 <= bounds[0][1] / SAMPLE_RATE <= 8.7
    assert chunk_bounds(audio[:100], chunk_s=10.0) == [(0, 100)]
    assert chunk_bounds(audio[:0], chunk_s=10.0) == []
