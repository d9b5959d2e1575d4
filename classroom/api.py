"""REST API: thin viewsets over the same selectors and services as the pages."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User, request_user
from captions.models import SegmentRevision, TranscriptSegment
from captions.services import MAX_CORRECTION_CHARS, viewer_count
from captions.services import segment_correct as correct_segment
from classroom import exports, notes, recording_api
from classroom.notes_display import lecture_notes, notes_as_data
from lectures import services
from lectures.audio import kept_audio_url
from lectures.models import Course, Enrollment, Lecture
from lectures.params import parse_id
from lectures.selectors import (
    can_manage_course,
    courses_visible_to,
    enrollments_visible_to,
    lectures_visible_to,
    require_course_manager,
)


class CourseSerializer(serializers.ModelSerializer[Course]):
    instructors = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=User.objects.all()
    )
    join_code = serializers.SerializerMethodField(
        help_text="Shown only to the course's instructors and staff."
    )

    class Meta:
        model = Course
        fields = ("id", "code", "title", "language", "instructors", "join_code", "created_at")
        read_only_fields = ("id", "created_at")

    def get_join_code(self, course: Course) -> str | None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return course.join_code if user and can_manage_course(user, course) else None


class EnrollmentSerializer(serializers.ModelSerializer[Enrollment]):
    course: serializers.PrimaryKeyRelatedField[Course] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    course_code = serializers.CharField(source="course.code", read_only=True)
    student: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Enrollment
        fields = ("id", "course", "course_code", "student", "created_at")
        read_only_fields = fields


class JoinSerializer(serializers.Serializer[Any]):
    join_code = serializers.CharField(max_length=32)


class LectureSerializer(serializers.ModelSerializer[Lecture]):
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.all())
    audio_url = serializers.SerializerMethodField(
        help_text="The lecture's kept audio (Ogg Opus, byte ranges; second 0 is the captions' "
        "time 0), for the same people as the lecture; null while none is kept."
    )

    class Meta:
        model = Lecture
        fields = (
            "id",
            "course",
            "title",
            "scheduled_at",
            "status",
            "started_at",
            "ended_at",
            "created_at",
            "audio_url",
        )
        read_only_fields = ("id", "status", "started_at", "ended_at", "created_at")

    def get_audio_url(self, lecture: Lecture) -> str | None:
        return kept_audio_url(lecture.pk)

    def validate_course(self, course: Course) -> Course:
        # A course the caller cannot see reads as unknown, exactly like a made-up id.
        user = self.context["request"].user
        if not courses_visible_to(user).filter(pk=course.pk).exists():
            raise ValidationError(f'Invalid pk "{course.pk}" - object does not exist.')
        return course


def _is_schema_generation(view: object) -> bool:
    """drf-spectacular calls get_queryset() without a user to learn the model."""
    return bool(getattr(view, "swagger_fake_view", False))


class CourseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Course],
):
    """Courses the caller teaches or is enrolled in (staff: all). Only staff create courses."""

    serializer_class = CourseSerializer

    def get_queryset(self) -> QuerySet[Course]:
        if _is_schema_generation(self):
            return Course.objects.none()
        return courses_visible_to(request_user(self.request)).prefetch_related("instructors")

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAuthenticated(), IsAdminUser()]
        return [IsAuthenticated()]

    @extend_schema(request=None, responses=CourseSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-join-code")
    def regenerate_join_code(self, request: Request, pk: str | None = None) -> Response:
        course = self.get_object()
        services.course_regenerate_join_code(course=course, by=request_user(request))
        return Response(self.get_serializer(course).data)


class EnrollmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Enrollment]
):
    """Your enrolments (instructors also see their courses' students). POST a join code to join."""

    serializer_class = EnrollmentSerializer

    def get_queryset(self) -> QuerySet[Enrollment]:
        if _is_schema_generation(self):
            return Enrollment.objects.none()
        return enrollments_visible_to(request_user(self.request))

    @extend_schema(request=JoinSerializer, responses={201: EnrollmentSerializer})
    def create(self, request: Request) -> Response:
        payload = JoinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        enrollment = services.course_join(
            user=request_user(request), join_code=payload.validated_data["join_code"]
        )
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class CorrectionSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=MAX_CORRECTION_CHARS)


class CaptionSerializer(serializers.ModelSerializer[TranscriptSegment]):
    class Meta:
        model = TranscriptSegment
        fields = ("seq", "start_ms", "end_ms", "text", "edited_at")


class RevisionSerializer(serializers.ModelSerializer[SegmentRevision]):
    edited_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = SegmentRevision
        fields = ("previous_text", "text", "edited_by", "edited_at")


@extend_schema(parameters=[OpenApiParameter("course", int, description="only this course")])
class LectureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Lecture],
):
    """Lectures of the caller's courses. The course's instructors create, start and end them."""

    serializer_class = LectureSerializer

    def get_queryset(self) -> QuerySet[Lecture]:
        if _is_schema_generation(self):
            return Lecture.objects.none()
        lectures = lectures_visible_to(request_user(self.request))
        course_id = self.request.query_params.get("course")
        if course_id is not None:
            course_pk = parse_id(course_id)
            if course_pk is None:
                raise ValidationError({"course": "Must be a course id."})
            lectures = lectures.filter(course_id=course_pk)
        status_filter = self.request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in Lecture.Status.values:
                raise ValidationError(
                    {"status": f"Must be one of {', '.join(Lecture.Status.values)}."}
                )
            lectures = lectures.filter(status=status_filter)
        return lectures

    def perform_create(self, serializer: serializers.BaseSerializer[Lecture]) -> None:
        data = serializer.validated_data
        serializer.instance = services.lecture_create(
            course=data["course"],
            by=request_user(self.request),
            title=data["title"],
            scheduled_at=data["scheduled_at"],
        )

    def _transition(self, request: Request, *, start: bool) -> Response:
        return self._change(request, services.lecture_start if start else services.lecture_end)

    def _change(self, request: Request, change: Callable[..., Lecture]) -> Response:
        lecture = change(lecture=self.get_object(), by=request_user(request))
        return Response(self.get_serializer(lecture).data)

    @extend_schema(request=None, responses={200: LectureSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, start=True)

    @extend_schema(request=None, responses={200: LectureSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, start=False)

    @extend_schema(request=None, responses={200: LectureSerializer})
    @action(detail=True, methods=["post"])
    def reprocess(self, request: Request, pk: str | None = None) -> Response:
        """Compute a finished lecture's summary and keywords again."""
        return self._change(request, notes.reprocess)

    @extend_schema(request=CorrectionSerializer, responses={200: CaptionSerializer})
    @action(detail=True, methods=["patch"], url_path=r"captions/(?P<seq>[0-9]{1,9})")
    def correct_caption(self, request: Request, pk: str | None = None, seq: str = "") -> Response:
        """Correct one caption (the course's instructors and captioners); viewers get the new
        text at once and the earlier one stays in its history."""
        lecture = self.get_object()
        payload = CorrectionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        segment = correct_segment(
            lecture_id=lecture.pk,
            seq=int(seq),
            by=request_user(request),
            text=payload.validated_data["text"],
        )
        return Response(CaptionSerializer(segment).data)

    @extend_schema(responses={200: RevisionSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path=r"captions/(?P<seq>[0-9]{1,9})/revisions")
    def caption_revisions(self, request: Request, pk: str | None = None, seq: str = "") -> Response:
        """A caption's corrections, oldest first; the first `previous_text` is the original."""
        lecture = self.get_object()
        segment = TranscriptSegment.objects.filter(lecture=lecture, seq=int(seq)).first()
        if segment is None:
            raise NotFound("This lecture has no caption with that seq.")
        revisions = segment.revisions.select_related("edited_by")
        return Response(RevisionSerializer(revisions, many=True).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def viewers(self, request: Request, pk: str | None = None) -> Response:
        """How many are watching the lecture's captions now (its students with the live page
        or the notes open); for the course's instructors, on the broadcast page."""
        lecture = self.get_object()
        require_course_manager(request_user(request), lecture.course)
        return Response({"viewers": viewer_count(lecture.pk)})

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """Summary (linked to captions by seq), keywords with occurrences, and the transcript
        in paragraphs."""
        return Response(notes_as_data(lecture_notes(self.get_object())))

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=sorted(exports.FORMATS))
        ],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path=r"export/(?P<fmt>[a-z]+)")
    def export(self, request: Request, pk: str | None = None, fmt: str = "") -> HttpResponse:
        """The transcript as WebVTT (`vtt`), SubRip (`srt`), plain text (`txt`) or Markdown
        notes (`md`), as a file download."""
        lecture = self.get_object()
        if fmt not in exports.FORMATS:
            raise NotFound(f"Unknown format {fmt!r}: choose one of vtt, srt, txt, md.")
        return exports.download(lecture_notes(lecture), fmt)

    @extend_schema(
        methods=["GET"], request=None, responses={200: recording_api.RecordingStatusSerializer}
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": recording_api.RecordingUploadSerializer},
        responses={202: recording_api.RecordingStatusSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def recording(self, request: Request, pk: str | None = None) -> Response:
        """GET: the uploaded recording's transcription status and progress. POST (multipart,
        field `file`): upload a recording for the lecture and transcribe it (see docs/api.md)."""
        lecture = self.get_object()
        if request.method == "GET":
            return recording_api.recording_status(request, lecture)
        return recording_api.recording_upload(request, lecture)

    @extend_schema(
        request=recording_api.UploadStartSerializer,
        responses={201: recording_api.UploadSerializer},
    )
    @action(detail=True, methods=["post"], url_path="recording/uploads")
    def recording_upload_start(self, request: Request, pk: str | None = None) -> Response:
        """Start a resumable upload of `size` bytes; send it in parts (see docs/api.md)."""
        return recording_api.upload_start(request, self.get_object())

    @extend_schema(
        methods=["PUT"],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("offset", int, required=True)],
        responses={200: recording_api.UploadSerializer, 202: recording_api.UploadSerializer},
    )
    @extend_schema(methods=["GET"], request=None, responses={200: recording_api.UploadSerializer})
    @action(
        detail=True,
        methods=["get", "put"],
        url_path=r"recording/uploads/(?P<upload_id>[0-9a-f]{32})",
        parser_classes=[],
    )
    def recording_upload_part(
        self, request: Request, pk: str | None = None, upload_id: str = ""
    ) -> Response:
        """GET: the offset to send next. PUT (raw bytes, `?offset=`): the next part; the last
        one makes the file the lecture's recording (202 with its status)."""
        lecture = self.get_object()
        if request.method == "GET":
            return recording_api.upload_status(request, lecture, upload_id)
        return recording_api.upload_part(request, lecture, upload_id)

    @extend_schema(request=None, responses={202: recording_api.RecordingStatusSerializer})
    @action(detail=True, methods=["post"], url_path="recording/retry")
    def recording_retry(self, request: Request, pk: str | None = None) -> Response:
        """Transcribe a failed lecture's recording again (or only its notes, if they failed)."""
        return recording_api.recording_retry(request, self.get_object())
