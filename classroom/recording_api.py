"""REST API for uploaded recordings; `classroom.api.LectureViewSet` routes its `recording` and
`recording/retry` actions here, after looking the lecture up (404 for lectures not visible)."""

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import request_user
from classroom import recordings, uploads
from classroom.recording_views import progress_payload
from lectures.models import Lecture
from lectures.params import parse_id
from lectures.selectors import can_manage_course


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


class UploadStartSerializer(serializers.Serializer[Any]):
    size = serializers.IntegerField(min_value=1, help_text="the whole file's size in bytes")


class UploadSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    size = serializers.IntegerField()
    offset = serializers.IntegerField(help_text="send the next part from this byte")
    part_bytes = serializers.IntegerField(help_text="the largest part accepted")
    complete = serializers.BooleanField()
    recording = RecordingStatusSerializer(
        required=False, help_text="after the last part: the recording's status (202)"
    )


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


def _upload_answer(request: Request, upload: uploads.Upload, code: int) -> Response:
    body: dict[str, Any] = upload.as_dict()
    if upload.lecture is not None:
        body["recording"] = progress_payload(request_user(request), upload.lecture)
        code = status.HTTP_202_ACCEPTED
    return Response(body, status=code)


def upload_start(request: Request, lecture: Lecture) -> Response:
    if not can_manage_course(request_user(request), lecture.course):
        raise PermissionDenied("Only the course's instructors can do this.")
    payload = UploadStartSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    upload = uploads.upload_start(
        lecture=lecture, by=request_user(request), size=payload.validated_data["size"]
    )
    return _upload_answer(request, upload, status.HTTP_201_CREATED)


def upload_status(request: Request, lecture: Lecture, upload_id: str) -> Response:
    upload = uploads.upload_status(lecture=lecture, by=request_user(request), upload_id=upload_id)
    return _upload_answer(request, upload, status.HTTP_200_OK)


def upload_part(request: Request, lecture: Lecture, upload_id: str) -> Response:
    """The request's raw body is the part; `?offset=` says where it starts."""
    raw_offset = request.query_params.get("offset")
    offset = 0 if raw_offset == "0" else parse_id(raw_offset)
    length = parse_id(request.META.get("CONTENT_LENGTH"))
    if offset is None or length is None:
        raise ValidationError("Send ?offset=<byte> and a Content-Length.", code="bad_part")
    try:
        upload = uploads.upload_part(
            lecture=lecture,
            by=request_user(request),
            upload_id=upload_id,
            offset=offset,
            body=request._request,  # type: ignore[arg-type]  # read in pieces, never whole
            length=length,
        )
    except ValidationError as error:
        if error.code != "offset_mismatch":
            raise
        # Where to go on from, so a client that lost an answer resumes without asking.
        current = uploads.upload_status(
            lecture=lecture, by=request_user(request), upload_id=upload_id
        )
        return Response(
            {"detail": error.messages, "code": error.code, "offset": current.offset},
            status=status.HTTP_409_CONFLICT,
        )
    return _upload_answer(request, upload, status.HTTP_200_OK)
