"""Correcting a caption: the course's instructors and captioners, live or afterwards."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import request_user
from captions import services
from captions.forms import CorrectionForm
from captions.models import TranscriptSegment
from lectures.audio import kept_audio_url
from lectures.selectors import can_correct_captions, lectures_visible_to


@login_required
@require_http_methods(["GET", "POST"])
def caption_correct(request: HttpRequest, lecture_id: int, seq: int) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if not can_correct_captions(user, lecture.course):
        raise PermissionDenied
    segment = get_object_or_404(TranscriptSegment, lecture=lecture, seq=seq)
    # A POST is always validated, even an empty one (it is a missing text, not a page view).
    data = request.POST if request.method == "POST" else None
    form = CorrectionForm(data, initial={"text": segment.text})
    form.fields["text"].widget.attrs["lang"] = lecture.course.language
    if request.method == "POST" and form.is_valid():
        try:
            services.segment_correct(
                lecture_id=lecture.pk, seq=seq, by=user, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, _("The caption was corrected."))
            notes_url = reverse("lecture_detail", args=[lecture.pk])
            return redirect(f"{notes_url}?correct=1#seg-{seq}")
    revisions = segment.revisions.select_related("edited_by").order_by("-edited_at", "-pk")
    has_next = TranscriptSegment.objects.filter(lecture=lecture, seq__gt=seq).exists()
    # To hear the caption: the kept audio, else (a recording transcribed before audio was kept)
    # the uploaded file; both on the captions' time line.
    audio_url = kept_audio_url(lecture.pk) or (
        reverse("recording_audio", args=[lecture.pk]) if lecture.recording else None
    )
    context = {
        "lecture": lecture,
        "course": lecture.course,
        "segment": segment,
        "form": form,
        "revisions": revisions,
        "has_next": has_next,
        "audio_url": audio_url,
    }
    return render(request, "captions/correct.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def caption_merge(request: HttpRequest, lecture_id: int, seq: int) -> HttpResponse:
    """Join caption `seq` with the caption after it (services.segment_merge)."""
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if not can_correct_captions(user, lecture.course):
        raise PermissionDenied
    try:
        services.segment_merge(lecture_id=lecture.pk, seq=seq, by=user)
    except TranscriptSegment.DoesNotExist:
        messages.error(request, _("There is no caption after this one to merge with."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The two captions are now one."))
    notes_url = reverse("lecture_detail", args=[lecture.pk])
    return redirect(f"{notes_url}?correct=1#seg-{seq}")


@login_required
@require_POST
def caption_split(request: HttpRequest, lecture_id: int, seq: int) -> HttpResponse:
    """Cut caption `seq` in two: POST `first` and `second` (services.segment_split)."""
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if not can_correct_captions(user, lecture.course):
        raise PermissionDenied
    try:
        services.segment_split(
            lecture_id=lecture.pk,
            seq=seq,
            by=user,
            first=request.POST.get("first", ""),
            second=request.POST.get("second", ""),
        )
    except TranscriptSegment.DoesNotExist as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The caption is now two captions."))
    notes_url = reverse("lecture_detail", args=[lecture.pk])
    return redirect(f"{notes_url}?correct=1#seg-{seq}")
