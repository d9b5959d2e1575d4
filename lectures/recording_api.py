"""REST API for uploaded recordings; `lectures.api.LectureViewSet` routes its `recording` and
`recording/retry` actions here, after looking the lecture up (404 for lectures not visible)."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import request_user
from lectures import recordings
from lectures.models import Lecture
from lectures.recording_views import progress_payload


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


# A refusal because of the lecture's state is a conflict, like a wrong lecture transition.
_STATUS_OF_CODE = {
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "invalid_state": status.HTTP_409_CONFLICT,
    "live_captions": status.HTTP_409_CONFLICT,
    "missing_file": status.HTTP_409_CONFLICT,
}


def _refused(error: DjangoValidationError) -> Response:
    return Response(
        {"detail": error.messages, "code": error.code},
        status=_STATUS_OF_CODE.get(str(error.code), status.HTTP_400_BAD_REQUEST),
    )


def recording_status(request: Request, lecture: Lecture) -> Response:
    return Response(progress_payload(request_user(request), lecture))


def recording_upload(request: Request, lecture: Lecture) -> Response:
    user = request_user(request)
    try:
        lecture = recordings.recording_upload(
            lecture=lecture, by=user, file=request.FILES.get("file")
        )
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except DjangoValidationError as error:
        return _refused(error)
    lecture.refresh_from_db()
    return Response(progress_payload(user, lecture), status=status.HTTP_202_ACCEPTED)


def recording_retry(request: Request, lecture: Lecture) -> Response:
    user = request_user(request)
    try:
        lecture = recordings.recording_retry(lecture=lecture, by=user)
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except DjangoValidationError as error:
        return _refused(error)
    lecture.refresh_from_db()
    return Response(progress_payload(user, lecture), status=status.HTTP_202_ACCEPTED)
