"""Notes in sections, end to end: caption fragments -> process_lecture (real Kiwi, the default
"terms" method) -> Section rows -> the notes page, the Markdown export and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from captions.models import TranscriptSegment
from classroom import notes
from lectures.models import Lecture, Section, Summary
from tests.conftest import World, client_for
from tests.ml.test_lecture_notes import TOPICS, lecture_captions

pytestmark = pytest.mark.django_db


def processed_lecture(world: World) -> Lecture:
    lecture = world.lecture
    lecture.segments.all().delete()
    for caption in lecture_captions(repeat=2):
        TranscriptSegment.objects.create(
            lecture=lecture,
            seq=caption.seq,
            start_ms=caption.start_ms,
            end_ms=caption.end_ms,
            text=caption.text,
        )
    lecture.status = Lecture.Status.ENDED
    lecture.save()
    assert notes.process_lecture(lecture.pk) == Lecture.Status.READY
    lecture.refresh_from_db()
    return lecture


def test_processing_stores_sections_and_whole_sentence_summaries(world: World) -> None:
    lecture = processed_lecture(world)
    sentences = {s for topic in TOPICS for s in topic}
    sections = list(Section.objects.filter(lecture=lecture).order_by("position"))
    assert len(sections) == 3
    assert [s.position for s in sections] == [1, 2, 3]
    assert sections[0].start_ms == 0 < sections[1].start_ms < sections[2].start_ms
    for section in sections:
        assert section.title and section.terms
        assert 1 <= len(section.sentences) <= 3
        for item in section.sentences:
            assert item["text"] in sentences  # a whole sentence, not a caption fragment
    summary = Summary.objects.get(lecture=lecture)
    assert summary.method == "terms"
    assert summary.term_counts["학습률"] >= 4
    texts = {seq: text for seq, text in lecture.segments.values_list("seq", "text")}
    for item in summary.sentences:
        assert item["text"] in sentences
        pieces = [texts[seq][start:end] for seq, start, end in item["spans"]]
        assert " ".join(pieces) == item["text"]  # every piece points at its caption
        assert item["seq"] == item["spans"][0][0]
        assert item["start_ms"] <= item["end_ms"]


def test_the_page_the_markdown_and_the_api_show_the_sections(world: World) -> None:
    lecture = processed_lecture(world)
    sections = list(Section.objects.filter(lecture=lecture).order_by("position"))
    client = client_for(world.student)

    page = client.get(reverse("lecture_detail", args=[lecture.pk])).content.decode()
    assert 'id="sections-heading"' in page
    for section in sections:
        assert section.title in page
        assert f'href="#seg-{section.first_seq}"' in page
    # The transcript itself is unchanged: every caption is still its own segment.
    assert page.count('class="segment"') == lecture.segments.count()

    markdown = client.get(reverse("lecture_export", args=[lecture.pk, "md"])).content.decode()
    assert (
        markdown.index("## Summary") < markdown.index("## Sections") < markdown.index("## Keywords")
    )
    for section in sections:
        assert section.sentences[0]["text"].split()[0] in markdown

    data = client.get(f"/api/lectures/{lecture.pk}/notes/").json()
    assert [s["title"] for s in data["sections"]] == [s.title for s in sections]
    assert all(s["summary"] for s in data["sections"])
    assert data["summary"][0]["start_ms"] >= 0
    vtt = client.get(reverse("lecture_export", args=[lecture.pk, "vtt"])).content.decode()
    assert vtt.count(" --> ") == lecture.segments.count()  # captions export unchanged
