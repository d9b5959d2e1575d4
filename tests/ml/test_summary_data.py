"""Summarization data: aclsum and sadedegel read from their wheels, AI Hub jsonl, kobill split."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ml.summary_data import (
    DataUnavailable,
    ensure_wheel,
    load_aclsum,
    load_aihub,
    load_kobill,
    load_sadedegel,
    split_kobill,
)

# The wheels are fetched once (pip download --no-deps) into the folder the commands use.
WHEELS = Path(__file__).resolve().parents[2] / "var" / "summary-data" / "wheels"


@pytest.fixture(scope="module")
def wheels() -> Path:
    try:
        ensure_wheel("aclsum", WHEELS)
        ensure_wheel("sadedegel", WHEELS)
    except DataUnavailable as error:  # pragma: no cover - offline machine without the cache
        pytest.skip(f"summarization wheels unavailable: {error}")
    return WHEELS


def test_aclsum_has_human_labels_and_references(wheels: Path) -> None:
    documents = load_aclsum("train", wheels)
    assert len(documents) == 100
    assert len(load_aclsum("val", wheels)) == 50
    first = documents[0]
    assert first.source == "aclsum" and first.language == "en"
    assert len(first.sentences) == len(first.labels) > 10
    assert set(first.labels) == {0.0, 1.0}
    assert first.reference
    assert " , " not in " ".join(first.sentences)  # detokenized
    positives = sum(sum(d.labels) for d in documents) / sum(len(d.labels) for d in documents)
    assert 0.2 < positives < 0.6
    with pytest.raises(ValueError):
        load_aclsum("dev", wheels)


def test_sadedegel_targets_grade_the_deletion_rounds(wheels: Path) -> None:
    documents = load_sadedegel(wheels)
    assert len(documents) == 96
    for doc in documents:
        assert doc.language == "tr" and len(doc.sentences) == len(doc.labels) >= 20
        assert min(doc.labels) == 0.0 and max(doc.labels) == 1.0
    # The first document's first sentence survived to round 7 of 7.
    assert documents[0].labels[0] == 1.0 or documents[0].doc_id != "300-330-40265684"


def test_a_wheel_that_does_not_match_its_pin_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        (tmp_path / "aclsum-0.1.2-py3-none-any.whl").write_bytes(b"not the pinned wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    (tmp_path / "aclsum-0.1.2-py3-none-any.whl").write_bytes(b"stale")  # not trusted either
    monkeypatch.setattr(subprocess, "run", fake_pip)
    with pytest.raises(DataUnavailable, match="sha256"):
        ensure_wheel("aclsum", tmp_path)
    assert not (tmp_path / "aclsum-0.1.2-py3-none-any.whl").exists()


def test_aihub_jsonl_with_and_without_extractive_labels(tmp_path: Path) -> None:
    records = [
        {
            "id": "a1",
            "article_original": ["첫 문장입니다.", "둘째 문장입니다.", "셋째 문장입니다."],
            "extractive": [0, 2],
            "abstractive": "요약입니다.",
        },
        {
            "id": "a2",
            "article_original": [
                "오늘 날씨는 맑습니다.",
                "정부는 육아휴직 대상 자녀의 나이를 8세로 올리기로 했습니다.",
                "점심 메뉴는 김밥입니다.",
            ],
            "extractive": None,
            "abstractive": "육아휴직 대상 자녀 나이를 8세로 올린다.",
        },
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    first, second = load_aihub(path)
    assert first.labels == (1.0, 0.0, 1.0) and first.reference == "요약입니다."
    assert second.labels == (0.0, 1.0, 0.0)  # the greedy ROUGE oracle
    path.write_text('{"id": 1}\n', "utf-8")
    with pytest.raises(DataUnavailable):
        load_aihub(path)


def test_kobill_bills_split_into_summary_and_body() -> None:
    documents = load_kobill()
    assert len(documents) == 10
    for doc in documents:
        assert doc.reference and len(doc.sentences) >= 7
        body = " ".join(doc.sentences)
        assert "제안이유" not in body
        assert "현행과 같음" not in body  # the old/new comparison table is dropped
        assert doc.reference[:30] not in body
    first = next(d for d in documents if d.doc_id == "1809890")
    assert first.reference.startswith("초등학교 저학년의 경우에도 부모의 따뜻한 사랑과 보살핌이")
    assert first.reference.endswith("(안 제63조제2항제4호).")
    assert first.sentences[0] == "지방공무원법 일부를 다음과 같이 개정한다."


def test_a_summary_that_runs_over_a_page_break_is_kept_whole() -> None:
    from konlpy.corpus import kobill  # type: ignore[import-untyped]

    bill = split_kobill("1809896", kobill.open("1809896.txt").read())
    assert "행정의 투명성을 확보하려는 것임." in bill.summary
    assert "입법예고기간과 행정예고기간을 50일 이상으로 연장함" in bill.summary
    assert "주요내용" not in bill.summary.splitlines()
    assert bill.body.startswith("행정절차법 일부를 다음과 같이 개정한다.")
