"""The live pages (the instructor's broadcast page, the students' live caption page) and the
caption search page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import request_user
from accounts.preferences import caption_preferences_of
from captions.forms import SearchForm
from captions.protocol import MAX_FRAME_BYTES, PROTOCOL_VERSION, SAMPLE_RATE
from captions.search import search_segments
from lectures.params import parse_page
from lectures.selectors import can_manage_course, lectures_visible_to


@login_required
def lecture_broadcast(request: HttpRequest, lecture_id: int) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    if not can_manage_course(user, lecture.course):
        raise PermissionDenied
    config = {
        "lectureId": lecture.pk,
        "socketPath": f"/ws/lectures/{lecture.pk}/broadcast/",
        "language": lecture.course.language,
        "sampleRate": SAMPLE_RATE,
        "maxFrameBytes": MAX_FRAME_BYTES,
        "protocol": PROTOCOL_VERSION,
        "workletUrl": static("js/pcm-worklet.js"),
        "viewersUrl": reverse("lecture-viewers", args=[lecture.pk]),
        "autostart": request.GET.get("start") == "1",
    }
    strings = {
        "states": {
            "idle": _("Not started"),
            "connecting": _("Connecting…"),
            "live": _("Broadcasting"),
            "reconnecting": _("Reconnecting…"),
            "stopped": _("Stopped"),
            "ended": _("The lecture has ended"),
            "refused": _("Refused by the server"),
            "replaced": _("Taken over by another window"),
        },
        "microphoneError": _("The microphone could not be opened"),
        "delayed": _("Captions are delayed by %(seconds)s s: the server is busy."),
        "microphone": _("Microphone %(n)s"),
        "pressStart": _(
            "The lecture is live. Press “Start broadcasting” to turn your microphone on."
        ),
    }
    return render(
        request,
        "captions/broadcast.html",
        {"lecture": lecture, "course": lecture.course, "config": config, "strings": strings},
    )


@login_required
def lecture_live(request: HttpRequest, lecture_id: int) -> HttpResponse:
    user = request_user(request)
    lecture = get_object_or_404(lectures_visible_to(user), pk=lecture_id)
    config = {
        "lectureId": lecture.pk,
        "socketPath": f"/ws/lectures/{lecture.pk}/captions/",
        "preferencesUrl": reverse("api-caption-prefs"),
        "preferences": caption_preferences_of(user.caption_preferences),
        "status": lecture.status,
        "popoutUrl": f"{reverse('lecture_live', args=[lecture.pk])}?popout=1",
        "language": lecture.course.language,
        "lectureUrl": reverse("lecture_detail", args=[lecture.pk]),
    }
    strings = {
        "popoutTitle": _("Captions: %(title)s") % {"title": lecture.title},
        "saved": _("Saved."),
        "poppedOut": _("The captions are in their own window. Close it to bring them back here."),
        "popupBlocked": _("The browser blocked the caption window. Allow pop-ups for this site."),
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "reconnecting": _("Connection lost. Reconnecting… Captions said meanwhile will appear."),
        "ended": _("The lecture has ended. The captions stay on the lecture page."),
        "openNotes": _("Open the lecture page"),
        "refused": _("You cannot watch this lecture."),
        "notLive": _("This lecture is not live. Captions appear when it starts."),
        "saveFailed": _("Your settings could not be saved."),
        "delayed": _("Captions are delayed by %(seconds)s s."),
    }
    return render(
        request,
        "captions/live.html",
        {
            "lecture": lecture,
            "course": lecture.course,
            "config": config,
            "strings": strings,
            "popout": request.GET.get("popout") == "1",
        },
    )


SEARCH_PAGE_SIZE = 20


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Captions of the user's lectures matching a query, best first, 20 a page."""
    user = request_user(request)
    form = SearchForm(request.GET if "q" in request.GET else None, user=user)
    page = None
    page_number = 1
    if form.is_bound and form.is_valid():
        page_number = parse_page(request.GET.get("page"))
        course = form.cleaned_data["course"]
        page = search_segments(
            user,
            form.cleaned_data["q"],
            course_id=course.pk if course else None,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            limit=SEARCH_PAGE_SIZE,
            offset=(page_number - 1) * SEARCH_PAGE_SIZE,
        )
    context = {
        "form": form,
        "page": page,
        "page_number": page_number,
        "first": (page_number - 1) * SEARCH_PAGE_SIZE + 1,
        "last": (page_number - 1) * SEARCH_PAGE_SIZE + len(page.hits) if page else 0,
    }
    return render(request, "captions/search.html", context, status=400 if form.errors else 200)
