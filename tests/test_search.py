"""Caption search: Korean-aware, ranked, highlighted, filtered, and only over visible lectures.

Runs on SQLite (LIKE over stored terms, ranked in Python) and on PostgreSQL (tsvector + GIN,
ts_rank_cd); CI runs both.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from captions.models import TranscriptSegment
from captions.search import SearchPage, index_segments, search_segments
from lectures.models import Course, Lecture
from tests.conftest import World, client_for


def add_segments(lecture: Lecture, *texts: str, index: bool = True) -> list[TranscriptSegment]:
    first = TranscriptSegment.objects.filter(lecture=lecture).order_by("-seq").first()
    seq = first.seq if first else 0
    segments = [
        TranscriptSegment.objects.create(
            lecture=lecture,
            seq=seq + number,
            start_ms=(seq + number) * 3000,
            end_ms=(seq + number) * 3000 + 2500,
            text=text,
        )
        for number, text in enumerate(texts, 1)
    ]
    if index:
        index_segments(lecture.pk)
    return segments


def texts(page: SearchPage) -> list[str]:
    return [hit.snippet for hit in page.hits]


def lecture_on(course: Course, day: date, title: str) -> Lecture:
    at = timezone.make_aware(datetime(day.year, day.month, day.day, 10, 0))
    return Lecture.objects.create(course=course, title=title, scheduled_at=at)


@pytest.fixture
def indexed(world: World) -> World:
    index_segments(world.lecture.pk)
    index_segments(world.other_lecture.pk)
    return world


# --- Korean-aware matching ----------------------------------------------------------------------


def test_a_noun_finds_the_caption_where_it_carries_a_particle(indexed: World) -> None:
    page = search_segments(indexed.student, "수업")
    assert texts(page) == ["수업을 시작하겠습니다."]


def test_a_compound_finds_its_spaced_form_and_the_spaced_form_finds_the_compound(
    indexed: World,
) -> None:
    add_segments(indexed.lecture, "인공 지능 모델을 만듭니다.", "인공지능을 배웁니다.")
    both = {"인공 지능 모델을 만듭니다.", "인공지능을 배웁니다."}
    assert set(texts(search_segments(indexed.student, "인공지능"))) == both
    assert set(texts(search_segments(indexed.student, "인공 지능"))) == both


def test_english_matches_any_case_and_the_plural(indexed: World) -> None:
    add_segments(indexed.lecture, "The gradients vanish in deep networks.", "A GRADIENT step.")
    found = texts(search_segments(indexed.student, "Gradient"))
    assert set(found) == {"The gradients vanish in deep networks.", "A GRADIENT step."}


def test_every_word_of_the_query_must_match(indexed: World) -> None:
    add_segments(indexed.lecture, "역전파로 가중치를 갱신합니다.", "역전파는 어렵습니다.")
    assert texts(search_segments(indexed.student, "역전파 가중치")) == [
        "역전파로 가중치를 갱신합니다."
    ]


def test_a_query_without_searchable_words_finds_nothing_and_says_so(indexed: World) -> None:
    page = search_segments(indexed.student, "   ")
    assert not page.searchable
    assert page.hits == []


# --- ranking, snippets, highlights --------------------------------------------------------------


def test_captions_that_say_the_word_more_often_rank_higher(indexed: World) -> None:
    add_segments(
        indexed.lecture,
        "역전파 이야기를 잠깐 하고 다른 주제로 넘어가서 데이터 전처리와 정규화, 평가 지표를 "
        "봅니다.",
        "역전파, 역전파, 또 역전파: 역전파를 이해해야 합니다.",
    )
    page = search_segments(indexed.student, "역전파")
    assert texts(page)[0].startswith("역전파, 역전파")
    assert page.hits[0].rank > page.hits[1].rank


def test_equal_ranks_list_the_newer_lecture_first_then_the_earlier_moment(
    indexed: World,
) -> None:
    older = lecture_on(indexed.course, date(2030, 3, 2), "older")
    newer = lecture_on(indexed.course, date(2030, 3, 9), "newer")
    add_segments(older, "행렬 곱셈")
    add_segments(newer, "행렬 곱셈", "행렬 곱셈")
    page = search_segments(indexed.student, "행렬")
    assert [(hit.lecture_title, hit.seq) for hit in page.hits] == [
        ("newer", 1),
        ("newer", 2),
        ("older", 1),
    ]


def test_highlights_mark_the_word_not_its_particle(indexed: World) -> None:
    hit = search_segments(indexed.student, "수업").hits[0]
    assert hit.highlights == ((0, 2),)
    assert hit.snippet_html == "<mark>수업</mark>을 시작하겠습니다."


def test_a_compound_is_highlighted_across_its_space(indexed: World) -> None:
    add_segments(indexed.lecture, "오늘은 인공 지능의 역사")
    hit = search_segments(indexed.student, "인공지능").hits[0]
    assert hit.snippet_html == "오늘은 <mark>인공 지능</mark>의 역사"


def test_markup_in_a_caption_is_escaped_in_snippets(indexed: World) -> None:
    add_segments(indexed.lecture, '<script>alert("수업")</script> 수업 <b>끝</b>')
    hit = search_segments(indexed.student, "script").hits[0]
    assert "<script>" not in hit.snippet_html
    assert "&lt;<mark>script</mark>&gt;alert" in hit.snippet_html
    assert "&lt;b&gt;끝&lt;/b&gt;" in hit.snippet_html
    body = client_for(indexed.student).get(reverse("search"), {"q": "script"}).content.decode()
    assert "<script>alert" not in body
    assert "&lt;<mark>script</mark>&gt;alert" in body


def test_a_long_caption_is_cut_around_the_first_match(indexed: World) -> None:
    long_text = "가나다라마바사 " * 60 + "역전파를 설명합니다. " + "아자차카타파하 " * 60
    add_segments(indexed.lecture, long_text)
    hit = search_segments(indexed.student, "역전파").hits[0]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 300
    ((start, end),) = hit.highlights
    assert hit.snippet[start:end] == "역전파"


# --- filters and visibility ---------------------------------------------------------------------


def test_filters_by_course_and_lecture_date(indexed: World) -> None:
    march = lecture_on(indexed.course, date(2030, 3, 2), "3월")
    april = lecture_on(indexed.course, date(2030, 4, 6), "4월")
    add_segments(march, "트리 탐색")
    add_segments(april, "트리 균형")
    user = indexed.staff
    assert len(search_segments(user, "트리").hits) == 2
    only_april = search_segments(user, "트리", date_from=date(2030, 4, 1))
    assert [hit.lecture_title for hit in only_april.hits] == ["4월"]
    only_march = search_segments(user, "트리", date_to=date(2030, 3, 31))
    assert [hit.lecture_title for hit in only_march.hits] == ["3월"]
    assert search_segments(user, "트리", course_id=indexed.other_course.pk).hits == []
    assert len(search_segments(user, "트리", course_id=indexed.course.pk).hits) == 2


@pytest.mark.parametrize(
    ("role", "sees_own", "sees_other"),
    [
        ("student", True, False),
        ("instructor", True, False),
        ("other_student", False, True),
        ("other_instructor", False, True),
        ("staff", True, True),
    ],
)
def test_search_only_ever_returns_captions_of_visible_lectures(
    indexed: World, role: str, sees_own: bool, sees_other: bool
) -> None:
    add_segments(indexed.lecture, "공통 단어 하나")
    add_segments(indexed.other_lecture, "공통 단어 둘")
    user = indexed.user(role)
    assert user is not None
    lectures = {hit.lecture_id for hit in search_segments(user, "공통 단어").hits}
    expected = set()
    if sees_own:
        expected.add(indexed.lecture.pk)
    if sees_other:
        expected.add(indexed.other_lecture.pk)
    assert lectures == expected
    # A hidden course as a filter gives nothing, like an id that does not exist.
    hidden = indexed.other_course if not sees_other else indexed.course
    if not (sees_own and sees_other):
        assert search_segments(user, "공통", course_id=hidden.pk).hits == []


def test_an_inactive_user_finds_nothing(indexed: World) -> None:
    User.objects.filter(pk=indexed.student.pk).update(is_active=False)
    indexed.student.refresh_from_db()
    assert search_segments(indexed.student, "수업").hits == []


# --- indexing -----------------------------------------------------------------------------------


def test_segments_not_indexed_yet_are_still_found_by_their_text(world: World) -> None:
    add_segments(world.lecture, "역전파를 배웁니다.", index=False)
    page = search_segments(world.student, "역전파")
    assert texts(page) == ["역전파를 배웁니다."]
    assert page.hits[0].snippet_html == "<mark>역전파</mark>를 배웁니다."


def test_indexed_hits_rank_above_unindexed_ones(world: World) -> None:
    add_segments(world.lecture, "역전파 먼저")
    add_segments(world.lecture, "역전파 나중", index=False)
    assert texts(search_segments(world.student, "역전파")) == ["역전파 먼저", "역전파 나중"]


def test_indexing_fills_only_empty_terms_unless_asked_to_redo_all(world: World) -> None:
    assert index_segments(world.lecture.pk) == 1
    assert index_segments(world.lecture.pk) == 0
    assert index_segments(world.lecture.pk, reindex=True) == 1
    segment = TranscriptSegment.objects.get(lecture=world.lecture, seq=1)
    assert segment.search_terms == " 수업 시작 "


def test_a_caption_without_words_is_indexed_as_a_single_space(world: World) -> None:
    (segment,) = add_segments(world.lecture, "음...")
    segment.refresh_from_db()
    assert segment.search_terms == " "
    assert index_segments(world.lecture.pk) == 0


def test_the_reindex_command_indexes_every_lecture_or_one(world: World) -> None:
    call_command("reindex_search", "--lecture", str(world.lecture.pk))
    assert TranscriptSegment.objects.filter(search_terms="").count() == 1
    call_command("reindex_search")
    assert TranscriptSegment.objects.filter(search_terms="").count() == 0
    call_command("reindex_search", "--all")
    assert TranscriptSegment.objects.filter(search_terms="").count() == 0


# --- the page -----------------------------------------------------------------------------------


def test_the_page_lists_results_that_link_to_the_moment_in_the_lecture(indexed: World) -> None:
    response = client_for(indexed.student).get(reverse("search"), {"q": "수업"})
    body = response.content.decode()
    assert response.status_code == 200
    link = f"{reverse('lecture_detail', args=[indexed.lecture.pk])}#seg-1"
    assert f'href="{link}"' in body
    assert "<mark>수업</mark>을 시작하겠습니다." in body
    assert '<ol class="results"' in body
    assert 'role="search"' in body


def test_the_page_without_a_query_shows_only_the_form(indexed: World) -> None:
    body = client_for(indexed.student).get(reverse("search")).content.decode()
    assert 'id="results-heading"' not in body
    assert '<label for="id_q">' in body


def test_the_page_says_when_nothing_matches_or_nothing_can_be_searched(indexed: World) -> None:
    client = client_for(indexed.student)
    none = client.get(reverse("search"), {"q": "양자역학"}).content.decode()
    assert "No captions match" in none
    empty = client.get(reverse("search"), {"q": ""}).content.decode()
    assert "Type at least one word" in empty


def test_the_course_choices_are_only_the_users_courses(indexed: World) -> None:
    body = client_for(indexed.student).get(reverse("search")).content.decode()
    assert indexed.course.code in body
    assert indexed.other_course.code not in body
    hidden = client_for(indexed.student).get(
        reverse("search"), {"q": "수업", "course": str(indexed.other_course.pk)}
    )
    assert hidden.status_code == 400
    assert "SECRET" not in hidden.content.decode()


def test_the_page_pages_through_many_results(indexed: World) -> None:
    add_segments(indexed.lecture, *[f"반복 문장 {n}" for n in range(25)])
    client = client_for(indexed.student)
    first = client.get(reverse("search"), {"q": "반복"}).content.decode()
    assert first.count('<li>\n        <a href="') == 20
    assert "page=2" in first and 'rel="next"' in first
    second = client.get(reverse("search"), {"q": "반복", "page": "2"}).content.decode()
    assert second.count('<li>\n        <a href="') == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_the_page_rejects_a_date_range_that_ends_before_it_starts(indexed: World) -> None:
    response = client_for(indexed.student).get(
        reverse("search"), {"q": "수업", "date_from": "2030-05-01", "date_to": "2030-04-01"}
    )
    assert response.status_code == 400


def test_the_site_navigation_links_to_search(indexed: World) -> None:
    body = client_for(indexed.student).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("search")}"' in body


# --- the API ------------------------------------------------------------------------------------


def test_the_api_returns_hits_with_highlights_and_links(indexed: World) -> None:
    response = client_for(indexed.student).get("/api/search/", {"q": "수업"})
    assert response.status_code == 200
    body = response.json()
    assert body["terms"] == [["수업"]]
    assert body["next"] is None and body["previous"] is None
    (hit,) = body["results"]
    assert hit["lecture"] == indexed.lecture.pk
    assert hit["course_code"] == "AI101"
    assert hit["seq"] == 1
    assert hit["snippet"] == "수업을 시작하겠습니다."
    assert hit["highlights"] == [[0, 2]]
    assert hit["url"] == f"/lectures/{indexed.lecture.pk}/#seg-1"


def test_the_api_pages_and_filters(indexed: World) -> None:
    add_segments(indexed.lecture, *[f"반복 문장 {n}" for n in range(5)])
    client = client_for(indexed.student)
    first = client.get("/api/search/", {"q": "반복", "page_size": "3"}).json()
    assert len(first["results"]) == 3 and first["next"].endswith("page=2")
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    later = (timezone.now() + timedelta(days=30)).date().isoformat()
    assert client.get("/api/search/", {"q": "반복", "from": later}).json()["results"] == []
    other = client.get("/api/search/", {"q": "반복", "course": str(indexed.other_course.pk)})
    assert other.status_code == 200 and other.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "수업", "from": "yesterday"}, {"q": "수업", "course": "x"}, {"q": "a", "page": "0"}],
)
def test_the_api_rejects_bad_parameters(indexed: World, params: dict[str, str]) -> None:
    assert client_for(indexed.student).get("/api/search/", params).status_code == 400


# --- PostgreSQL: the index is used ----------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL")
def test_on_postgresql_the_query_uses_the_gin_index(indexed: World) -> None:
    lecture = indexed.lecture
    filler = [
        TranscriptSegment(
            lecture=lecture,
            seq=100 + n,
            start_ms=n,
            end_ms=n,
            text=f"filler {n}",
            search_terms=f" filler 단어{n % 500} 문장{n % 37} ",
        )
        for n in range(20_000)
    ]
    TranscriptSegment.objects.bulk_create(filler, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE captions_transcriptsegment")
    with CaptureQueriesContext(connection) as queries:
        search_segments(indexed.staff, "수업")
    ranked = next(q["sql"] for q in queries.captured_queries if "ts_rank_cd" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {ranked}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "segment_search_vector" in plan, plan
