"""The lecture notes page and the exports: summary, keywords, paragraphs, VTT/SRT/txt/Markdown."""

import io

import pysrt  # type: ignore[import-untyped]
import pytest
import webvtt
from django.urls import reverse

from captions.models import TranscriptSegment
from classroom.notes_display import NoteSegment, Piece, group_paragraphs, mark_spans
from lectures.models import Keyword, Lecture, Summary
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

CAPTIONS = [
    # (start_ms, end_ms, text): a pause of 5 s before the fourth starts a new paragraph
    (0, 3000, "오늘은 인공 지능의 역사를 배웁니다."),
    (3200, 6000, "인공지능이라는 말은 1956년에 생겼습니다."),
    (6100, 9000, "<script>alert('x')</script> & 기호도 그대로 보입니다."),
    (14000, 17000, "다음으로 신경망을 봅시다."),
]


def ready_lecture(world: World) -> Lecture:
    lecture = world.lecture
    lecture.segments.all().delete()
    for seq, (start, end, text) in enumerate(CAPTIONS, 1):
        TranscriptSegment.objects.create(
            lecture=lecture, seq=seq, start_ms=start, end_ms=end, text=text
        )
    lecture.status = Lecture.Status.READY
    lecture.save()
    Keyword.objects.create(
        lecture=lecture,
        rank=1,
        term="인공지능",
        score=1.0,
        count=2,
        occurrences=[[1, 4, 9], [2, 0, 4]],
    )
    Keyword.objects.create(
        lecture=lecture, rank=2, term="신경망", score=0.5, count=1, occurrences=[[4, 6, 9]]
    )
    Summary.objects.create(
        lecture=lecture,
        method="model",
        sentences=[{"seq": 2, "start": 0, "end": 24, "text": CAPTIONS[1][2], "score": 0.9}],
    )
    return lecture


def test_paragraphs_break_at_pauses() -> None:
    segments = [NoteSegment(i, s, e, t, (Piece(t),)) for i, (s, e, t) in enumerate(CAPTIONS, 1)]
    paragraphs = group_paragraphs(segments)
    assert [[s.seq for s in p.segments] for p in paragraphs] == [[1, 2, 3], [4]]
    assert paragraphs[1].clock == "0:14"


def test_keyword_spans_cut_the_text_into_pieces() -> None:
    pieces = mark_spans("오늘은 인공 지능의 역사", [(4, 9, 1)])
    assert pieces == (Piece("오늘은 "), Piece("인공 지능", 1), Piece("의 역사"))
    # Overlaps and spans outside the text are ignored rather than corrupting the text.
    pieces = mark_spans("abcdef", [(0, 3, 1), (2, 4, 2), (5, 99, 3)])
    assert "".join(p.text for p in pieces) == "abcdef"


def test_the_notes_page_shows_summary_keywords_and_the_transcript(world: World) -> None:
    lecture = ready_lecture(world)
    html = client_for(world.student).get(reverse("lecture_detail", args=[lecture.pk]))
    page = html.content.decode()
    assert html.status_code == 200
    summary_at = page.index('id="summary-heading"')
    assert summary_at < page.index('id="keywords-heading"') < page.index('id="transcript-heading"')
    assert 'href="#seg-2"' in page[summary_at:]  # the summary sentence links to its caption
    assert '<span class="kw" data-keyword="1">인공 지능</span>' in page
    assert 'href="#seg-1" data-keyword="1"' in page  # a keyword jumps to its first occurrence
    assert "(2)" in page
    assert page.count('class="paragraph"') == 2
    assert "&lt;script&gt;" in page and "<script>alert" not in page


@pytest.mark.parametrize("fmt", ["vtt", "srt", "txt", "md"])
def test_exports_are_attachments_with_a_readable_name(world: World, fmt: str) -> None:
    lecture = ready_lecture(world)
    response = client_for(world.student).get(reverse("lecture_export", args=[lecture.pk, fmt]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"{world.course.code}-" in disposition and disposition.endswith(f".{fmt}")
    assert "charset=utf-8" in response["Content-Type"]


def test_the_webvtt_export_is_valid(world: World) -> None:
    lecture = ready_lecture(world)
    body = client_for(world.student).get(reverse("lecture_export", args=[lecture.pk, "vtt"]))
    captions = webvtt.from_buffer(io.StringIO(body.content.decode()))
    # A caption too long for two subtitle lines becomes two cues (ml.subtitles.subtitle_cues).
    assert len(captions) >= len(CAPTIONS)
    assert captions[0].start == "00:00:00.000" and captions[-1].end == "00:00:17.000"
    # Escaped as WebVTT requires (webvtt-py keeps the references as they are).
    assert captions[2].text.replace("\n", "").startswith("&lt;script&gt;alert('x')&lt;/script&gt;")
    assert "<script>" not in body.content.decode()


def test_the_srt_export_is_valid(world: World) -> None:
    lecture = ready_lecture(world)
    body = client_for(world.student).get(reverse("lecture_export", args=[lecture.pk, "srt"]))
    subtitles = pysrt.from_string(body.content.decode())
    assert len(subtitles) >= len(CAPTIONS)
    assert subtitles[1].start.ordinal == 3200
    assert subtitles[1].text.replace("\n", " ") == CAPTIONS[1][2]


def test_the_text_and_markdown_exports(world: World) -> None:
    lecture = ready_lecture(world)
    client = client_for(world.student)
    text = client.get(reverse("lecture_export", args=[lecture.pk, "txt"])).content.decode()
    assert text.splitlines() == [c[2] for c in CAPTIONS]
    markdown = client.get(reverse("lecture_export", args=[lecture.pk, "md"])).content.decode()
    assert markdown.startswith(f"# {lecture.title}")
    assert markdown.index("## Summary") < markdown.index("## Keywords")
    assert "- 인공지능 (2)" in markdown
    assert "**0:14** 다음으로 신경망을 봅시다." in markdown
    assert "\\<script\\>" in markdown  # speech never becomes markup


def test_an_unknown_format_is_not_found(world: World) -> None:
    lecture = ready_lecture(world)
    url = reverse("lecture_export", args=[lecture.pk, "exe"])
    assert client_for(world.student).get(url).status_code == 404


@pytest.mark.parametrize("role", ["other_student", "other_instructor"])
def test_outsiders_get_neither_the_page_nor_an_export(world: World, role: str) -> None:
    lecture = ready_lecture(world)
    client = client_for(world.user(role))
    assert client.get(reverse("lecture_detail", args=[lecture.pk])).status_code == 404
    assert client.get(reverse("lecture_export", args=[lecture.pk, "vtt"])).status_code == 404
