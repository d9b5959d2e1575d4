"""Live keyword highlighting (static/js/live.js) marks whole words only: its own `termPattern`
and `escapeRegExp`, cut out of the shipped file and run by Node (skipped without `node`, unless
HEARUS_REQUIRE_TOOLS=1)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LIVE_JS = Path(__file__).resolve().parents[1] / "static" / "js" / "live.js"


def function_source(source: str, name: str) -> str:
    start = source.index(f"function {name}(")
    depth = 0
    for index in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[start : index + 1]
    raise AssertionError(f"{name} not closed")


def highlights(terms: list[str], texts: list[str]) -> list[list[str]]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("HEARUS_REQUIRE_TOOLS") == "1":
            pytest.fail("node is required")
        pytest.skip("node is not installed")
    source = LIVE_JS.read_text(encoding="utf-8")
    program = "\n".join(
        [
            function_source(source, "escapeRegExp"),
            function_source(source, "termPattern"),
            f"const terms = {json.dumps(terms, ensure_ascii=False)};",
            f"const texts = {json.dumps(texts, ensure_ascii=False)};",
            'const pattern = new RegExp(terms.map(termPattern).join("|"), "giu");',
            "const found = texts.map((t) => [...t.matchAll(pattern)].map((m) => m[0]));",
            "console.log(JSON.stringify(found));",
        ]
    )
    done = subprocess.run([node, "-e", program], capture_output=True, text=True, check=True)
    result: list[list[str]] = json.loads(done.stdout)
    return result


def test_keywords_are_marked_as_whole_words_only() -> None:
    terms = ["field", "인공지능", "network", "학습"]
    texts = [
        "battlefield and field",
        "인공 지능을 배우고 인공지능은 재미있다",
        "networks and a network",
        "기계학습이 아니라 학습을 한다",
    ]
    assert highlights(terms, texts) == [
        ["field"],  # not inside "battlefield"
        ["인공 지능", "인공지능"],  # spaced and glued, with their particles left out
        ["networks", "network"],  # keywords are singular; the plural is the same word
        ["학습"],  # not inside the compound 기계학습
    ]
    assert re.search(r"function termPattern", LIVE_JS.read_text(encoding="utf-8"))
