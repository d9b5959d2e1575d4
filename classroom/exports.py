"""Lecture exports: WebVTT and SRT captions, plain text, and Markdown notes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from classroom.notes_display import Notes
from ml.subtitles import Cue, reading_clock, subtitle_cues, to_srt, to_text, to_vtt


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str


FORMATS: dict[str, ExportFormat] = {
    "vtt": ExportFormat("vtt", "text/vtt; charset=utf-8"),
    "srt": ExportFormat("srt", "application/x-subrip; charset=utf-8"),
    "txt": ExportFormat("txt", "text/plain; charset=utf-8"),
    "md": ExportFormat("md", "text/markdown; charset=utf-8"),
}


def _cues(notes: Notes) -> list[Cue]:
    return [
        Cue(segment.start_ms, segment.end_ms, segment.text)
        for paragraph in notes.paragraphs
        for segment in paragraph.segments
    ]


def _markdown_escape(text: str) -> str:
    """Speech is text, not markup: characters Markdown would act on are escaped."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-!|~])", r"\\\1", " ".join(text.split()))


def to_markdown(notes: Notes) -> str:
    lecture = notes.lecture
    when = timezone.localtime(lecture.started_at or lecture.scheduled_at)
    lines = [
        f"# {_markdown_escape(lecture.title)}",
        "",
        f"{_markdown_escape(str(lecture.course))} · {when:%Y-%m-%d %H:%M}",
        "",
        f"## {_('Summary')}",
        "",
    ]
    lines += [f"- {_markdown_escape(s.text)} ({s.clock})" for s in notes.summary] or [_("(none)")]
    if notes.sections:
        lines += ["", f"## {_('Sections')}", ""]
        for section in notes.sections:
            lines += [f"### {section.clock} {_markdown_escape(section.title)}".rstrip(), ""]
            lines += [f"- {_markdown_escape(s.text)} ({s.clock})" for s in section.lines]
            lines += [""]
        lines.pop()
    lines += ["", f"## {_('Keywords')}", ""]
    lines += [f"- {_markdown_escape(k.term)} ({k.count})" for k in notes.keywords] or [_("(none)")]
    lines += ["", f"## {_('Transcript')}", ""]
    for paragraph in notes.paragraphs:
        text = " ".join(_markdown_escape(segment.text) for segment in paragraph.segments)
        lines += [f"**{reading_clock(paragraph.start_ms)}** {text}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(notes: Notes, fmt: str) -> str:
    if fmt == "vtt":
        return to_vtt(subtitle_cues(_cues(notes)), max_line_chars=None)
    if fmt == "srt":
        return to_srt(subtitle_cues(_cues(notes)), max_line_chars=None)
    if fmt == "txt":
        return to_text(_cues(notes))
    if fmt == "md":
        return to_markdown(notes)
    raise ValueError(f"unknown export format {fmt!r}")


def filename(notes: Notes, fmt: str) -> tuple[str, str]:
    """(ASCII fallback, RFC 5987 UTF-8) file names: `AI101-2026-03-02-1주차.vtt`."""
    lecture = notes.lecture
    day = timezone.localtime(lecture.started_at or lecture.scheduled_at).strftime("%Y-%m-%d")
    title = re.sub(r"[^\w\-]+", "-", unicodedata.normalize("NFC", lecture.title)).strip("-")
    name = f"{lecture.course.code}-{day}-{title}".strip("-") + f".{FORMATS[fmt].extension}"
    ascii_name = re.sub(r"[^A-Za-z0-9.\-]+", "-", name.encode("ascii", "ignore").decode())
    ascii_name = re.sub(r"-{2,}", "-", ascii_name) or f"lecture.{fmt}"
    return ascii_name, quote(name)


def content_disposition(notes: Notes, fmt: str) -> str:
    ascii_name, utf8_name = filename(notes, fmt)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}"


def download(notes: Notes, fmt: str) -> HttpResponse:
    """The export as a file download (the page and the API serve the same one)."""
    response = HttpResponse(render(notes, fmt), content_type=FORMATS[fmt].content_type)
    response["Content-Disposition"] = content_disposition(notes, fmt)
    return response
