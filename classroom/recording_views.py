"""Pages for uploaded recordings: the upload form (also on the lecture page, through
`recording_context` and `templates/lectures/_recording.html`), retry, and a small progress JSON
that `static/js/recording.js` polls."""

import mimetypes
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User, request_user
from classroom import recording_transcription, recordings
from classroom.byte_ranges import ranged_response
from lectures.models import Lecture
from lectures.selectors import can_correct_captions, can_manage_course, lectures_visible_to


class RecordingForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Recording"),
        required=False,  # the service says what is missing, in the same words as the API
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*,video/*"}),
    )


def recording_context(
    user: User, lecture: Lecture, form: RecordingForm | None = None
) -> dict[str, Any]:
    """What `_recording.html` needs beside `lecture`, `course` and `can_manage`; merge it into
    the lecture page's context."""
    manager = can_manage_course(user, lecture.course)
    refusal = recordings.recording_refusal(lecture)
    active = bool(lecture.recording) and lecture.status in (
        Lecture.Status.PROCESSING,
        Lecture.Status.ENDED,
    )
    progress = recording_transcription.current_progress(lecture)
    if active and progress is None:  # queued, or the cache forgot: nothing known yet
        progress = {"stage": "queued", "percent": 0, "done_s": None, "total_s": None}
    strings = _progress_strings()
    return {
        "recording_form": (form or RecordingForm()) if manager and not refusal else None,
        # Said only where uploading is refused for good (live captions); a live or processing
        # lecture shows its state elsewhere.
        "recording_refusal": refusal if recordings.has_live_captions(lecture) else "",
        "recording_help": recordings.limits_help(),
        "recording_can_retry": manager and recordings.can_retry(lecture),
        "recording_active": active,
        "recording_progress": progress,
        "recording_progress_text": progress_text(progress, strings) if progress else "",
        "recording_strings": strings,
    }


def _clock(seconds: float) -> str:
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(progress: recording_transcription.Progress, strings: dict[str, str]) -> str:
    """E.g. "Transcribing: 12:00 of 30:00 (40%)"; `static/js/recording.js` writes the same."""
    done, total = progress["done_s"], progress["total_s"]
    if progress["stage"] == "transcribing" and done is not None and total:
        return strings["transcribing_detail"] % {
            "done": _clock(done),
            "total": _clock(total),
            "percent": progress["percent"],
        }
    return strings.get(progress["stage"], progress["stage"])


def _progress_strings() -> dict[str, str]:
    return {
        "queued": _("Waiting for a worker…"),
        "decoding": _("Reading the file…"),
        "transcribing": _("Transcribing…"),
        # Python %-format; recording.js fills it in the same way.
        "transcribing_detail": _("Transcribing: %(done)s of %(total)s (%(percent)s%%)"),
        "waiting": _("Paused while a live lecture is being captioned on this server…"),
        "storing": _("Saving the captions…"),
        "notes": _("Captions saved. Computing keywords and summary…"),
        "ready": _("Done: the transcript is ready."),
        "failed": _("Transcription failed."),
        "reload": _("Show the transcript"),
        "reload_page": _("Reload the page"),
        "uploading": _("Uploading… A large file takes a while; keep this page open."),
        # recording-upload.js fills in the percent.
        "uploading_percent": _("Uploading: %(percent)s%% (keep this page open)"),
        "upload_failed": _("The upload failed. Check the connection and try again."),
    }


def _visible(request: HttpRequest, lecture_id: int) -> tuple[User, Lecture]:
    user = request_user(request)
    return user, get_object_or_404(lectures_visible_to(user), pk=lecture_id)


@login_required
@require_http_methods(["GET", "POST"])
def recording_upload(request: HttpRequest, lecture_id: int) -> HttpResponse:
    """GET: the upload form on its own page. POST: upload; errors come back on that page."""
    user, lecture = _visible(request, lecture_id)
    if not can_manage_course(user, lecture.course):
        raise PermissionDenied
    form = RecordingForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None:
        try:
            recordings.recording_upload(lecture=lecture, by=user, file=request.FILES.get("file"))
        except ValidationError as error:
            form.is_valid()  # cleans the form, so the error can join its field
            form.add_error("file", error)
        else:
            messages.success(
                request,
                _("Recording uploaded. Its captions appear here when it has been transcribed."),
            )
            return redirect("lecture_detail", lecture_id=lecture.pk)
        lecture.refresh_from_db()
    context = {
        "lecture": lecture,
        "course": lecture.course,
        "can_manage": True,
        **recording_context(user, lecture, form),
    }
    return render(
        request,
        "lectures/recording_upload.html",
        context,
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
def recording_retry(request: HttpRequest, lecture_id: int) -> HttpResponse:
    user, lecture = _visible(request, lecture_id)
    try:
        recordings.recording_retry(lecture=lecture, by=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Trying again. Progress is shown below."))
    return redirect("lecture_detail", lecture_id=lecture.pk)


@login_required
@require_GET
def recording_progress(request: HttpRequest, lecture_id: int) -> JsonResponse:
    """`{"status", "progress", "failure_reason"}` for the page's script; anyone who sees the
    lecture may ask (the reason only for its instructors)."""
    user, lecture = _visible(request, lecture_id)
    return JsonResponse(progress_payload(user, lecture))


def progress_payload(user: User, lecture: Lecture) -> dict[str, Any]:
    manager = can_manage_course(user, lecture.course)
    return {
        "lecture": lecture.pk,
        "status": lecture.status,
        "has_recording": bool(lecture.recording),
        "progress": recording_transcription.current_progress(lecture),
        "failure_reason": lecture.failure_reason if manager else "",
        "url": reverse("recording_progress", args=[lecture.pk]),
    }


@login_required
@require_GET
def recording_audio(request: HttpRequest, lecture_id: int) -> HttpResponseBase:
    """The lecture's uploaded recording as uploaded, for those who correct its captions (a
    recording transcribed before its audio was kept has no `lecture_audio` yet)."""
    user, lecture = _visible(request, lecture_id)
    if not can_correct_captions(user, lecture.course):
        raise PermissionDenied
    if not lecture.recording:
        raise Http404
    storage, name = lecture.recording.storage, lecture.recording.name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return ranged_response(
        request, lambda: storage.open(name, "rb"), storage.size(name), content_type
    )
