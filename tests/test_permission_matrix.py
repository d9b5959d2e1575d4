"""Every page and API endpoint, asked by each kind of user, gives exactly the right answer.

Roles: anonymous, a student of the course, a student of another course, the course's
instructor, another course's instructor, staff. Objects of a course you do not belong to
answer 404, like ids that do not exist, so nothing can be probed.
"""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from captions.search import index_segments
from lectures.models import Lecture
from tests.conftest import World, client_for

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "staff"]
LOGIN = "login"  # an anonymous page request is redirected to the login page


def expected(*codes: int | str) -> dict[str, int | str]:
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes, strict=True))


Request = Callable[[Client, World], "object"]

PAGE_CASES: dict[str, tuple[str, Callable[[World], str], dict[str, int | str]]] = {
    "dashboard": ("get", lambda w: reverse("dashboard"), expected(LOGIN, 200, 200, 200, 200, 200)),
    "course page": (
        "get",
        lambda w: reverse("course_detail", args=[w.course.pk]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "regenerate join code": (
        "post",
        lambda w: reverse("course_regenerate_code", args=[w.course.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "new lecture form": (
        "get",
        lambda w: reverse("lecture_create", args=[w.course.pk]),
        expected(LOGIN, 403, 404, 200, 404, 200),
    ),
    "lecture page": (
        "get",
        lambda w: reverse("lecture_detail", args=[w.lecture.pk]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "start lecture": (
        "post",
        lambda w: reverse("lecture_start", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "end lecture": (
        "post",
        lambda w: reverse("lecture_end", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "end lecture: the confirmation (not live: back to the lecture)": (
        "get",
        lambda w: reverse("lecture_end", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "resume lecture (never ended: refused with a message)": (
        "post",
        lambda w: reverse("lecture_resume", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "course vocabulary (save)": (
        "post",
        lambda w: reverse("course_vocabulary", args=[w.course.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "recompute notes (not ended yet)": (
        "post",
        lambda w: reverse("lecture_reprocess", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "correct a caption (page)": (
        "get",
        lambda w: reverse("caption_correct", args=[w.lecture.pk, 1]),
        expected(LOGIN, 403, 404, 200, 404, 200),
    ),
    "correct a caption (save)": (
        "post",
        lambda w: reverse("caption_correct", args=[w.lecture.pk, 1]),
        expected(LOGIN, 403, 404, 400, 404, 400),  # no text posted: the form explains
    ),
    "merge two captions (there is none after the only one: explained)": (
        "post",
        lambda w: reverse("caption_merge", args=[w.lecture.pk, 1]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "split a caption (nothing posted: explained)": (
        "post",
        lambda w: reverse("caption_split", args=[w.lecture.pk, 1]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "name a captioner": (
        "post",
        lambda w: reverse("course_captioners", args=[w.course.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "export webvtt": (
        "get",
        lambda w: reverse("lecture_export", args=[w.lecture.pk, "vtt"]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "export markdown notes": (
        "get",
        lambda w: reverse("lecture_export", args=[w.lecture.pk, "md"]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "recording upload form": (
        "get",
        lambda w: reverse("recording_upload", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 200, 404, 200),
    ),
    "recording upload (live captions: refused)": (
        "post",
        lambda w: reverse("recording_upload", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 400, 404, 400),
    ),
    "recording retry (nothing failed)": (
        "post",
        lambda w: reverse("recording_retry", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 302, 404, 302),
    ),
    "recording audio (none uploaded)": (
        "get",
        lambda w: reverse("recording_audio", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 404, 404, 404),
    ),
    "lecture audio (none kept: tests/test_lecture_audio.py has the kept case)": (
        "get",
        lambda w: reverse("lecture_audio", args=[w.lecture.pk]),
        expected(LOGIN, 404, 404, 404, 404, 404),
    ),
    "recording progress": (
        "get",
        lambda w: reverse("recording_progress", args=[w.lecture.pk]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "broadcast page": (
        "get",
        lambda w: reverse("lecture_broadcast", args=[w.lecture.pk]),
        expected(LOGIN, 403, 404, 200, 404, 200),
    ),
    "live caption page": (
        "get",
        lambda w: reverse("lecture_live", args=[w.lecture.pk]),
        expected(LOGIN, 200, 404, 200, 404, 200),
    ),
    "admin": ("get", lambda w: reverse("admin:index"), expected(302, 302, 302, 302, 302, 200)),
    "admin course list": (
        "get",
        lambda w: reverse("admin:lectures_course_changelist"),
        expected(302, 302, 302, 302, 302, 200),
    ),
    # Staff manage ordinary users, never privileges, tokens or lockouts (tests/security has the
    # escalation attempts themselves).
    "admin: change a student": (
        "get",
        lambda w: reverse("admin:accounts_user_change", args=[w.student.pk]),
        expected(302, 302, 302, 302, 302, 200),
    ),
    "admin: API tokens": (
        "get",
        lambda w: reverse("admin:knox_authtoken_changelist"),
        expected(302, 302, 302, 302, 302, 403),
    ),
    "admin: groups": (
        "get",
        lambda w: reverse("admin:auth_group_changelist"),
        expected(302, 302, 302, 302, 302, 403),
    ),
    "admin: login lockouts": (
        "get",
        lambda w: reverse("admin:axes_accessattempt_changelist"),
        expected(302, 302, 302, 302, 302, 403),
    ),
    "password change": (
        "get",
        lambda w: reverse("password_change"),
        expected(LOGIN, 200, 200, 200, 200, 200),
    ),
    "search page": (
        "get",
        lambda w: reverse("search") + "?q=수업",
        expected(LOGIN, 200, 200, 200, 200, 200),
    ),
    "search page, another course as filter": (
        "get",
        lambda w: reverse("search") + f"?q=secret&course={w.other_course.pk}",
        expected(LOGIN, 400, 200, 400, 200, 200),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGE_CASES)
def test_each_page_answers_each_role_exactly(world: World, page: str, role: str) -> None:
    method, url_of, answers = PAGE_CASES[page]
    url = url_of(world)
    response = getattr(client_for(world.user(role)), method)(url)
    want = answers[role]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == want, f"{page} as {role}"


@pytest.mark.parametrize("role", ROLES[1:])
def test_no_page_shows_another_courses_captions_or_titles(world: World, role: str) -> None:
    client = client_for(world.user(role))
    pages = [reverse("dashboard"), reverse("course_detail", args=[world.course.pk])]
    pages.append(reverse("lecture_detail", args=[world.lecture.pk]))
    pages += [reverse("lecture_export", args=[world.lecture.pk, fmt]) for fmt in ("md", "vtt")]
    for url in pages:
        body = client.get(url).content.decode()
        if role in ("other_student", "other_instructor"):
            assert world.lecture.title not in body
            assert "수업을 시작하겠습니다" not in body
        if role != "staff":
            assert "SECRET-OTHER-COURSE" not in body
            if role not in ("other_student", "other_instructor"):
                assert world.other_course.title not in body


def test_guessed_ids_answer_404_like_missing_ones(world: World) -> None:
    client = client_for(world.student)
    hidden = client.get(reverse("lecture_detail", args=[world.other_lecture.pk]))
    missing = client.get(reverse("lecture_detail", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404


def test_join_code_is_shown_only_to_those_who_manage_the_course(world: World) -> None:
    url = reverse("course_detail", args=[world.course.pk])
    for role, shown in [("student", False), ("instructor", True), ("staff", True)]:
        body = client_for(world.user(role)).get(url).content.decode()
        assert (world.course.join_code in body) is shown, role


API_CASES: dict[
    str, tuple[str, Callable[[World], str], dict[str, object], dict[str, int | str]]
] = {
    "course list": ("get", lambda w: "/api/courses/", {}, expected(401, 200, 200, 200, 200, 200)),
    "course detail": (
        "get",
        lambda w: f"/api/courses/{w.course.pk}/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "course create": (
        "post",
        lambda w: "/api/courses/",
        {"code": "NEW1", "title": "New", "language": "ko", "instructors": ["ins_a"]},
        expected(401, 403, 403, 403, 403, 201),
    ),
    "regenerate join code": (
        "post",
        lambda w: f"/api/courses/{w.course.pk}/regenerate-join-code/",
        {},
        expected(401, 403, 404, 200, 404, 200),
    ),
    "enrolment list": (
        "get",
        lambda w: "/api/enrollments/",
        {},
        expected(401, 200, 200, 200, 200, 200),
    ),
    "lecture list": ("get", lambda w: "/api/lectures/", {}, expected(401, 200, 200, 200, 200, 200)),
    "lecture detail": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "lecture create": (
        "post",
        lambda w: "/api/lectures/",
        {"course": "COURSE", "title": "2주차", "scheduled_at": "2030-03-02T10:00:00+09:00"},
        expected(401, 403, 400, 201, 400, 201),
    ),
    "lecture start": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/start/",
        {},
        expected(401, 403, 404, 200, 404, 200),
    ),
    "lecture end (not live yet)": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/end/",
        {},
        expected(401, 403, 404, 409, 404, 409),
    ),
    "caption correction": (
        "patch",
        lambda w: f"/api/lectures/{w.lecture.pk}/captions/1/",
        {"text": "고친 자막"},
        expected(401, 403, 404, 200, 404, 200),
    ),
    "caption history": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/captions/1/revisions/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "lecture viewer count": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/viewers/",
        {},
        expected(401, 403, 404, 200, 404, 200),
    ),
    "live lectures (status filter)": (
        "get",
        lambda w: "/api/lectures/?status=live",
        {},
        expected(401, 200, 200, 200, 200, 200),
    ),
    "lecture notes": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/notes/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "lecture export (srt)": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/export/srt/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "lecture reprocess (not ended yet)": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/reprocess/",
        {},
        expected(401, 403, 404, 409, 404, 409),
    ),
    "lecture recording status": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/recording/",
        {},
        expected(401, 200, 404, 200, 404, 200),
    ),
    "lecture recording upload (live captions: 409)": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/recording/",
        {},
        expected(401, 403, 404, 409, 404, 409),
    ),
    "lecture recording retry (nothing failed)": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/recording/retry/",
        {},
        expected(401, 403, 404, 409, 404, 409),
    ),
    "lecture recording upload in parts (no size: refused)": (
        "post",
        lambda w: f"/api/lectures/{w.lecture.pk}/recording/uploads/",
        {},
        expected(401, 403, 404, 400, 404, 400),
    ),
    "lecture recording upload status (no such upload)": (
        "get",
        lambda w: f"/api/lectures/{w.lecture.pk}/recording/uploads/{'0' * 32}/",
        {},
        expected(401, 404, 404, 404, 404, 404),
    ),
    "me": ("get", lambda w: "/api/me/", {}, expected(401, 200, 200, 200, 200, 200)),
    "caption preferences": (
        "get",
        lambda w: "/api/me/caption-preferences/",
        {},
        expected(401, 200, 200, 200, 200, 200),
    ),
    "search": ("get", lambda w: "/api/search/?q=수업", {}, expected(401, 200, 200, 200, 200, 200)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", API_CASES)
def test_each_api_endpoint_answers_each_role_exactly(
    world: World, endpoint: str, role: str
) -> None:
    method, url_of, payload, answers = API_CASES[endpoint]
    data = {k: (world.course.pk if v == "COURSE" else v) for k, v in payload.items()}
    client = client_for(world.user(role))
    if method == "get":
        response = client.get(url_of(world))
    elif method == "patch":
        response = client.patch(url_of(world), data, content_type="application/json")
    else:
        response = client.post(url_of(world), data, content_type="application/json")
    assert response.status_code == answers[role], f"{endpoint} as {role}: {response.content!r}"


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("student", {"course"}),
        ("other_student", {"other_course"}),
        ("instructor", {"course"}),
        ("other_instructor", {"other_course"}),
        ("staff", {"course", "other_course"}),
    ],
)
def test_api_lists_hold_only_what_the_role_may_see(
    world: World, role: str, visible: set[str]
) -> None:
    client = client_for(world.user(role))
    course_ids = {c["id"] for c in client.get("/api/courses/").json()["results"]}
    assert course_ids == {getattr(world, name).pk for name in visible}
    lecture_ids = {lec["id"] for lec in client.get("/api/lectures/").json()["results"]}
    lectures_of = {"course": world.lecture.pk, "other_course": world.other_lecture.pk}
    assert lecture_ids == {lectures_of[name] for name in visible}
    enrolment_courses = {e["course"] for e in client.get("/api/enrollments/").json()["results"]}
    assert enrolment_courses == {getattr(world, name).pk for name in visible}


def test_filtering_lectures_by_a_hidden_course_returns_nothing(world: World) -> None:
    response = client_for(world.student).get(f"/api/lectures/?course={world.other_course.pk}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_api_hides_the_join_code_from_students(world: World) -> None:
    url = f"/api/courses/{world.course.pk}/"
    assert client_for(world.student).get(url).json()["join_code"] is None
    assert client_for(world.instructor).get(url).json()["join_code"] == world.course.join_code


def test_starting_a_lecture_through_the_api_makes_it_live(world: World) -> None:
    response = client_for(world.instructor).post(f"/api/lectures/{world.lecture.pk}/start/")
    assert response.json()["status"] == "live"
    world.lecture.refresh_from_db()
    assert world.lecture.status == Lecture.Status.LIVE


@pytest.mark.parametrize("indexed", [False, True], ids=["not indexed yet", "indexed"])
@pytest.mark.parametrize("role", ROLES[1:])
def test_search_never_shows_another_courses_captions_ids_or_counts(
    world: World, role: str, indexed: bool
) -> None:
    if indexed:
        for lecture in (world.lecture, world.other_lecture):
            index_segments(lecture.pk)
    client = client_for(world.user(role))
    own = {"student", "instructor", "staff"}
    other = {"other_student", "other_instructor", "staff"}
    for query, lecture, allowed in [
        ("수업", world.lecture, own),
        ("secret", world.other_lecture, other),
    ]:
        for course in ("", str(world.course.pk), str(world.other_course.pk)):
            page = client.get(reverse("search"), {"q": query, "course": course})
            body = page.content.decode()
            api = client.get("/api/search/", {"q": query, "course": course}).json()
            link = reverse("lecture_detail", args=[lecture.pk])
            course_ok = course in ("", str(lecture.course_id))
            visible = role in allowed and course_ok
            assert (lecture.title in body) is visible, (role, query, course)
            assert (f'href="{link}#seg-1"' in body) is visible
            hits = [hit["lecture"] for hit in api.get("results", [])]
            assert hits == ([lecture.pk] if visible else []), (role, query, course)
            if not visible:
                assert 'class="results"' not in body
                assert "SECRET-OTHER-COURSE" not in body or role in other
                assert "수업을 시작하겠습니다" not in body or role in own
