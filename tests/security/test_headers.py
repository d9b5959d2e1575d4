"""Every page carries a strict Content-Security-Policy (no inline script or style), and the
headers `check --deploy` does not cover: Referrer-Policy, Permissions-Policy (the microphone
on the broadcast page only) and Cross-Origin-Opener-Policy (issue 15, item 7)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from lectures.models import Lecture
from tests.conftest import World, client_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(header: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (item.split() for item in header.split(";")) if parts}


@pytest.mark.parametrize(
    "url_of",
    [
        lambda w: reverse("login"),
        lambda w: reverse("dashboard"),
        lambda w: reverse("lecture_detail", args=[w.lecture.pk]),
        lambda w: reverse("lecture_live", args=[w.lecture.pk]),
        lambda w: "/api/docs/",
        lambda w: "/api/me/",
    ],
)
def test_pages_get_a_strict_csp_and_the_other_headers(world: World, url_of: object) -> None:
    response = client_for(world.instructor).get(url_of(world))  # type: ignore[operator]
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "microphone=()" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_only_the_broadcast_page_may_use_the_microphone(world: World) -> None:
    world.lecture.status = Lecture.Status.LIVE
    world.lecture.save()
    url = reverse("lecture_broadcast", args=[world.lecture.pk])
    response = client_for(world.instructor).get(url)
    assert response.status_code == 200
    assert "microphone=(self)" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_style_or_handlers() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text), template
        assert "<style" not in text, template
        assert not re.search(r"\sstyle=\"", text), template
        assert not re.search(r"\son[a-z]+=\"", text), template
