"""REST API for uploaded recordings; `classroom.api.LectureViewSet` routes its `recording` and
`recording/retry` actions here, after looking the lecture up (404 for lectures not visible)."""

from typing import Any

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import request_user
from classroom import recordings
from classroom.recording_views import progress_payload
from lectures.models import Lecture


class RecordingUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="Audio or video (WAV, MP3, M4A/AAC, WEBM/Opus, OGG, FLAC, MP4...), judged by "
        "content; at most RECORDING_MAX_BYTES and RECORDING_MAX_SECONDS."
    )


class RecordingProgressSerializer(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(
        choices=["queued", "decoding", "transcribing", "storing", "notes"]
    )
    percent = serializers.IntegerField(help_text="of the audio transcribed")
    done_s = serializers.FloatField(allow_null=True, help_text="seconds of audio transcribed")
    total_s = serializers.FloatField(allow_null=True, help_text="seconds of audio in all")


class RecordingStatusSerializer(serializers.Serializer[Any]):
    lecture = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Lecture.Status.choices)
    has_recording = serializers.BooleanField()
    progress = RecordingProgressSerializer(
        allow_null=True, help_text="while the recording is transcribed and its notes computed"
    )
    failure_reason = serializers.CharField(help_text="the course's instructors and staff only")
    url = serializers.CharField(help_text="the page's progress JSON (the same fields)")


def recording_status(request: Request, lecture: Lecture) -> Response:
    return Response(progress_payload(request_user(request), lecture))


def recording_upload(request: Request, lecture: Lecture) -> Response:
    user = request_user(request)
    lecture = recordings.recording_upload(lecture=lecture, by=user, file=request.FILES.get("file"))
    lecture.refresh_from_db()
    return Response(progress_payload(user, lecture), status=status.HTTP_202_ACCEPTED)


def recording_retry(request: Request, lecture: Lecture) -> Response:
    user = request_user(request)
    lecture = recordings.recording_retry(lecture=lecture, by=user)
    lecture.refresh_from_db()
    return Response(progress_payload(user, lecture), status=status.HTTP_202_ACCEPTED)
