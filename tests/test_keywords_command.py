"""`manage.py keywords FILE.txt`: a thin table printer over `ml.keywords.extract_keywords`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.ml.conftest import okt_or_skip

TRANSCRIPT = """\
오늘은 인공 지능과 기계 학습의 관계를 이야기하겠습니다.
기계 학습은 데이터에서 규칙을 찾는 인공지능의 한 분야입니다. 신경망은 기계 학습 모델입니다.

탐색 알고리즘도 인공지능의 오래된 주제입니다.
너비 우선 탐색과 깊이 우선 탐색은 그래프의 노드를 방문합니다.
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("keywords", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "lecture.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    return path


def test_prints_a_ranked_table(transcript: Path) -> None:
    lines = run(str(transcript)).splitlines()
    assert lines[0].split() == ["rank", "keyword", "score", "count", "first"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == [str(rank) for rank in range(1, len(rows) + 1)]
    assert 3 < len(rows) <= 10
    assert rows[0][2] == "1.000"
    scores = [float(row[2]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    counts = {row[1]: int(row[3]) for row in rows}
    assert counts["인공지능"] == 3
    # "기계 학습" recurs, so it is glued, also inside "기계 학습 모델" (said once: not a term).
    assert counts["기계학습"] == 3
    assert "기계학습모델" not in counts
    assert len(run(str(transcript), "--top", "2").splitlines()) == 3


def test_okt_gives_a_table_too(transcript: Path) -> None:
    okt_or_skip()
    lines = run(str(transcript), "--analyzer", "okt", "--top", "5").splitlines()
    assert len(lines) == 6
    assert "인공지능" in {line.split()[1] for line in lines[1:]}


def test_a_file_without_nouns(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n음... 네.\n", encoding="utf-8")
    assert run(str(path)).strip() == "No keywords found."


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "nope.txt"))


def test_an_unknown_analyzer_is_a_clear_error(transcript: Path) -> None:
    with pytest.raises(CommandError, match="invalid choice: 'mecab'"):
        run(str(transcript), "--analyzer", "mecab")
    with pytest.raises(CommandError, match="Unknown analyzer 'mecab'"):
        call_command("keywords", str(transcript), analyzer="mecab", stdout=StringIO())


def test_bad_top_and_undecodable_files_are_clear_errors(transcript: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--top must be at least 1"):
        run(str(transcript), "--top", "0")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CommandError, match="UTF-8"):
        run(str(binary))
