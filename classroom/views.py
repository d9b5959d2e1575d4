"""Pages. Each view: look the object up through a selector, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import request_user
from classroom import exports, notes
from classroom.byte_ranges import ranged_response
from classroom.notes_display import PARAGRAPH_PAUSE_MS, lecture_notes
from classroom.recording_views import recording_context
from lectures import services
from lectures.audio import kept_audio, kept_audio_url
from lectures.forms import JoinCourseForm, LectureForm, VocabularyForm
from lectures.models import Lecture
from lectures.params import parse_id
from lectures.selectors import (
    can_correct_captions,
    can_manage_course,
    course_lectures_by_state,
    courses_visible_to,
    lectures_visible_to,
)
from ml.media import KEPT_AUDIO_CONTENT_TYPE


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = JoinCourseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                enrollment = services.course_join(
                    user=user, join_code=form.cleaned_data["join_code"]
                )
            except ValidationError as error:
                form.add_error("join_code", error)
            else:
                messages.success(
                    request, _("You joined %(course)s.") % {"course": enrollment.course}
                )
                return redirect("course_detail", course_id=enrollment.course_id)
        status = 400
    courses = courses_visible_to(user).prefetch_related("instructors")
    live_lectures = lectures_visible_to(user).filter(status=Lecture.Status.LIVE)
    return render(
        request,
        "lectures/dashboard.html",
        {
            "courses": courses,
            "live_lectures": live_lectures.select_related("course"),
            "join_form": form,
            "live_now_strings": live_now_strings(),
        },
        status=status,
    )


def live_now_strings() -> dict[str, str]:
    """What static/js/live-now.js writes when a lecture goes live while the page is open."""
    return {
        "live": _("LIVE"),
        "liveUrl": reverse("lecture_live", args=[0]),
        "wentLive": _("“%(title)s” is live now."),
    }


@login_required
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    user = request_user(request)
    course = get_object_or_404(courses_visible_to(user), pk=course_id)
    context = {
        "course": course,
        "lectures": course_lectures_by_state(course),
        "can_manage": can_manage_course(user, course),
        "captioners": course.captioners.order_by("username"),
        "vocabulary_form": VocabularyForm(initial={"vocabulary": course.vocabulary}),
        "live_now_strings": live_now_strings(),
    }
    return render(request, "lectures/course_detail.html", context)


@login_required
@require_POST
def course_captioners(request: HttpRequest, course_id: int) -> HttpResponse:
    """Add (`username`) or remove (`remove` = a user id) a captioner of the course."""
    user = request_user(request)
    course = get_object_or_404(courses_visible_to(user), pk=course_id)
    remove = request.POST.get("remove", "")
    try:
        if remove_id := parse_id(remove):
            services.course_captioner_remove(course=course, by=user, captioner_id=remove_id)
            messages.success(request, _("The captioner was removed."))
        else:
            added = services.course_captioner_add(
                course=course, by=user, username=request.POST.get("username", "")
            )
            messages.success(
                request, _("%(name)s may now correct this course's captions.") % {"name": added}
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("course_detail", course_id=course.pk)


@login_required
@require_POST
def course_regenerate_code(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(courses_visible_to(request_user(request)), pk=course_id)
    services.course_regenerate_join_code(course=course, by=request_user(request))
    messages.success(
        request,
        _("New join code: %(code)s. The old code no longer works.") % {"code": course.join_code},
    )
    return redirect("course_detail", course_id=course.pk)


@login_required
@require_http_methods(["GET", "POST"])
def lecture_create(request: HttpRequest, course_id: int) -> HttpResponse:
    user = request_user(request)
    course = get_object_or_404(courses_visible_to(user), pk=course_id)
    if not can_manage_course(user, course):
        raise PermissionDenied
    form = LectureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lecture = services.lecture_create(course=course, by=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Lecture “%(title)s” created.") % {"title": lecture.title})
            return redirect("lecture_detail", lecture_id=lecture.pk)
    return render(
        request,
        "lectures/lecture_form.html",
        {"course": course, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def lecture_detail(request: HttpRequest, lecture_id: int) -> HttpResponse:
    """The lecture's notes: summary, keywords, transcript; live while the lecture is."""
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    notes = lecture_notes(lecture)
    last_seq = notes.paragraphs[-1].segments[-1].seq if notes.paragraphs else 0
    audio_url = kept_audio_url(lecture.pk)
    config = {
        "socketPath": f"/ws/lectures/{lecture.pk}/captions/",
        "status": lecture.status,
        "lastSeq": last_seq,
        "pauseMs": PARAGRAPH_PAUSE_MS,
    }
    strings = {
        "occurrence": _("Occurrence %(index)s of %(count)s of “%(term)s”"),
        "updated": _("The notes are ready. Reloading…"),
    }
    can_correct = can_correct_captions(user, lecture.course)
    context = {
        "lecture": lecture,
        "course": lecture.course,
        "notes": notes,
        "can_manage": can_manage_course(user, lecture.course),
        "can_correct": can_correct,
        "can_resume": services.lecture_can_resume(lecture),
        "correcting": can_correct and request.GET.get("correct") == "1",
        "audio_url": audio_url,
        "export_formats": EXPORT_LABELS,
        "config": config,
        "strings": strings,
    }
    if context["correcting"]:
        context["correct_config"] = {
            "captionUrl": f"/api/lectures/{lecture.pk}/captions/0/",
            "mergeUrl": reverse("caption_merge", args=[lecture.pk, 0]),
            # Splitting renumbers the captions after it: only once the lecture is over.
            "splitUrl": reverse("caption_split", args=[lecture.pk, 0]) if lecture.is_past else "",
            # To hear a caption while correcting it: the kept audio, else (a recording
            # transcribed before audio was kept) the uploaded file, on the same time line.
            "audioUrl": audio_url
            or (reverse("recording_audio", args=[lecture.pk]) if lecture.recording else ""),
            "language": lecture.course.language,
            "strings": {
                "hint": _("Select a caption to correct it here."),
                "label": _("Caption %(seq)s"),
                "save": _("Save"),
                "cancel": _("Cancel"),
                "listen": _("Listen"),
                "split": _("Split at the cursor"),
                "merge": _("Merge with the next caption"),
                "saved": _("Caption %(seq)s corrected."),
                "failed": _("The correction could not be saved."),
            },
        }
    context.update(recording_context(user, lecture))
    return render(request, "lectures/lecture_detail.html", context)


@login_required
@require_GET
def lecture_audio(request: HttpRequest, lecture_id: int) -> HttpResponseBase:
    """The lecture's kept audio (Ogg Opus, second 0 = its captions' time 0), in byte ranges so
    the player seeks; for whoever sees the lecture, 404 while none is kept."""
    lecture = get_object_or_404(lectures_visible_to(request_user(request)), pk=lecture_id)
    path = kept_audio(lecture.pk)
    if path is None:
        raise Http404
    try:
        stat = path.stat()
    except FileNotFoundError as error:  # deleted (retention) since kept_audio looked
        raise Http404 from error
    # A rewrite is a new file (a rename), so size and mtime tell versions apart.
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    response = ranged_response(
        request, lambda: path.open("rb"), stat.st_size, KEPT_AUDIO_CONTENT_TYPE, etag=etag
    )
    # A student's lecture: their browser may keep it (checking it is current), no shared cache.
    response["Cache-Control"] = "private, no-cache"
    return response


# gettext_lazy by its own name: makemessages finds only the names it knows (_, gettext_lazy...).
EXPORT_LABELS = {
    "vtt": "WebVTT",
    "srt": "SRT",
    "txt": gettext_lazy("Plain text"),
    "md": gettext_lazy("Markdown notes"),
}


@login_required
def lecture_export(request: HttpRequest, lecture_id: int, fmt: str) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if fmt not in exports.FORMATS:
        raise Http404
    return exports.download(lecture_notes(lecture), fmt)


@login_required
@require_POST
def lecture_reprocess(request: HttpRequest, lecture_id: int) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    try:
        notes.reprocess(lecture=lecture, by=user)
        messages.success(request, _("The notes are being computed again."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("lecture_detail", lecture_id=lecture.pk)


@login_required
@require_POST
def lecture_start(request: HttpRequest, lecture_id: int) -> HttpResponse:
    """Start the lecture; with `then=broadcast`, go straight on to broadcasting it (the
    broadcast page turns the microphone on by itself: one click from the lecture page)."""
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    try:
        services.lecture_start(lecture=lecture, by=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("lecture_detail", lecture_id=lecture.pk)
    if request.POST.get("then") == "broadcast":
        return redirect(f"{reverse('lecture_broadcast', args=[lecture.pk])}?start=1")
    messages.success(request, _("The lecture is live."))
    return redirect("lecture_detail", lecture_id=lecture.pk)


@login_required
@require_http_methods(["GET", "POST"])
def lecture_end(request: HttpRequest, lecture_id: int) -> HttpResponse:
    """GET asks "end this lecture?"; POST ends it. A misclick never ends a class by itself."""
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if not can_manage_course(user, lecture.course):
        raise PermissionDenied
    if request.method == "GET":
        if not lecture.is_live:
            return redirect("lecture_detail", lecture_id=lecture.pk)
        context = {
            "lecture": lecture,
            "course": lecture.course,
            "resume_minutes": services.RESUME_WINDOW.seconds // 60,
        }
        return render(request, "lectures/lecture_end.html", context)
    try:
        services.lecture_end(lecture=lecture, by=user)
        messages.success(
            request,
            _(
                "The lecture has ended. Its captions are kept. Ended by mistake? Resume it "
                "within %(minutes)d minutes on this page."
            )
            % {"minutes": services.RESUME_WINDOW.seconds // 60},
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("lecture_detail", lecture_id=lecture.pk)


@login_required
@require_POST
def lecture_resume(request: HttpRequest, lecture_id: int) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    try:
        services.lecture_resume(lecture=lecture, by=user)
        messages.success(request, _("The lecture is live again."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("lecture_detail", lecture_id=lecture.pk)


@login_required
@require_POST
def course_vocabulary(request: HttpRequest, course_id: int) -> HttpResponse:
    """The course's instructors set the terms speech recognition should spell right."""
    user = request_user(request)
    course = get_object_or_404(courses_visible_to(user), pk=course_id)
    form = VocabularyForm(request.POST)
    if form.is_valid():
        try:
            services.course_vocabulary_set(
                course=course, by=user, vocabulary=form.cleaned_data["vocabulary"]
            )
            messages.success(request, _("The vocabulary was saved."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, " ".join(str(error) for error in form.errors["vocabulary"]))
    return redirect(f"{reverse('course_detail', args=[course.pk])}#vocabulary-heading")


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: your courses. Otherwise a page that says what Hearus is."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")
