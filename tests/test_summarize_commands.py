"""`manage.py summarize`, `train_summarizer` and `evaluate_summarizer`: thin wrappers over ml/."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ml.summarizer import load_head

TRANSCRIPT = """\
자, 다들 잘 들리시나요? 오늘은 경사 하강법을 배우겠습니다.
경사 하강법은 손실 함수의 기울기를 따라 가중치를 조금씩 바꾸는 최적화 방법입니다.
잠깐 물 좀 마시고 올게요. 네, 좋습니다.
학습률이 너무 크면 손실이 발산하고 너무 작으면 수렴이 매우 느려집니다.
뒤에 계신 분들 화면 잘 보이세요?
역전파 알고리즘은 연쇄 법칙으로 각 층의 기울기를 효율적으로 계산합니다.
음, 그러니까 어디까지 했죠? 조금만 더 하고 쉬었다 하겠습니다.
확률적 경사 하강법은 전체 데이터 대신 미니배치로 기울기를 추정합니다.
"""


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "lecture.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    return path


def summary_lines(output: str) -> list[tuple[str, float, str]]:
    rows = []
    for line in output.splitlines()[1:]:
        clock, score, text = line.split(maxsplit=2)
        rows.append((clock, float(score), text))
    return rows


SENTENCES = [
    s
    for line in TRANSCRIPT.splitlines()
    for s in line.replace("? ", "?|").replace(". ", ".|").split("|")
]


def test_summarize_prints_the_chosen_sentences_in_order(transcript: Path) -> None:
    output = run("summarize", str(transcript), "--sentences", "3", "--method", "model")
    assert output.splitlines()[0] == "3 of 11 sentences (model):"
    rows = summary_lines(output)
    positions = [SENTENCES.index(text) for _, _, text in rows]
    assert positions == sorted(positions)
    texts = " ".join(text for _, _, text in rows)
    assert "기울기" in texts and "물 좀 마시고" not in texts


def test_summarize_default_is_the_notes_pipeline_and_baselines_remain(transcript: Path) -> None:
    default = run("summarize", str(transcript))
    assert default.startswith("11 sentences, 1 sections, 3 summary lines (notes)")
    assert "Sections:" in default and "Keywords:" in default and "경사하강법" in default
    summary = default.split("Summary:\n")[1].split("\n\n")[0].splitlines()
    assert len(summary) == 3 and all(line.split()[0] == "0:00" for line in summary)
    assert "물 좀 마시고" not in "".join(summary)
    lead = summary_lines(run("summarize", str(transcript), "--method", "lead"))
    assert [text for _, _, text in lead] == SENTENCES[:3]
    assert lead[0][2] == "자, 다들 잘 들리시나요?"
    textrank = run("summarize", str(transcript), "--method", "textrank", "--sentences", "2")
    assert textrank.startswith("2 of 11 sentences (textrank):")


def test_summarize_reads_caption_files_and_prints_their_times(tmp_path: Path) -> None:
    cues = []
    for i, line in enumerate(TRANSCRIPT.splitlines()):
        # Each line cut in two mid-sentence, 40 seconds apart: fragments, as live captions.
        words = line.split()
        half = len(words) // 2
        for j, part in enumerate((words[:half], words[half:])):
            start = i * 40 + j * 20
            timing = f"00:{start // 60:02d}:{start % 60:02d}.000 --> "
            timing += f"00:{start // 60:02d}:{start % 60 + 19:02d}.000"
            cues.append(f"{timing}\n{' '.join(part)}\n")
    path = tmp_path / "lecture.vtt"
    path.write_text("WEBVTT\n\n" + "\n".join(cues), encoding="utf-8")
    output = run("summarize", str(path))
    summary = output.split("Summary:\n")[1].split("\n\n")[0].splitlines()
    for line in summary:
        clock, _score, text = line.split(maxsplit=2)
        assert text in SENTENCES  # whole sentences, although every caption was half of one
        assert clock != "0:00" or text == SENTENCES[0]
    keywords = run("keywords", str(path)).splitlines()
    assert keywords[0].split() == ["rank", "keyword", "score", "count", "first"]


def test_summarize_rejects_bad_input(tmp_path: Path, transcript: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        run("summarize", str(tmp_path / "missing.txt"))
    with pytest.raises(CommandError, match="at least 1"):
        run("summarize", str(transcript), "--sentences", "0")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    assert run("summarize", str(empty)) == "No sentences found.\n"


def test_train_summarizer_writes_a_loadable_head(tmp_path: Path) -> None:
    records = [
        {
            "id": f"d{i}",
            "article_original": [
                f"{topic}의 핵심 개념을 설명합니다.",
                "오늘 날씨가 좋네요.",
                f"{topic}는 데이터에서 규칙을 학습합니다.",
            ],
            "extractive": [0, 2],
            "abstractive": f"{topic}의 핵심 개념",
        }
        for i, topic in enumerate(["신경망", "결정 트리", "군집화", "강화 학습"] * 3)
    ]
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    out = tmp_path / "head.safetensors"
    output = run(
        "train_summarizer",
        "--data", f"aihub:{data}", "--head", "linear", "--epochs", "2", "--seed", "1",
        "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert "10 training and 2 validation documents" in output
    assert "epoch   2" in output and f"saved {out}" in output
    head, meta = load_head(out)
    assert head.config.kind == "linear" and meta["seed"] == "1" and meta["data"] == "aihub"
    with pytest.raises(CommandError, match="unknown data source"):
        run("train_summarizer", "--data", "cnn", "--out", str(out))


def test_evaluate_summarizer_prints_one_table_on_kobill() -> None:
    output = run("evaluate_summarizer", "--markdown")
    lines = output.splitlines()
    assert lines[0].startswith("kobill: 10 documents, 3 sentences per summary")
    assert lines[1] == (
        "| Method | ROUGE-1 | ROUGE-2 | ROUGE-L | P(R-L > LEAD) | P(R-L > textrankr) |"
    )
    rows = {line.split("|")[1].strip(): line for line in lines[3:]}
    assert list(rows) == [
        "LEAD-3",
        "TextRank (e5 cosine)",
        "textrankr 1.1 (Kiwi morphemes)",
        "notes: terms (default)",
        "notes: e5 vectors",
        "e5 + linear head",
        "e5 + BiLSTM head",
        "Oracle (greedy, <= 3)",
    ]
    cells = {name: line.split("|")[2:5] for name, line in rows.items()}
    scores: dict[str, list[float]] = {}
    for name, row in cells.items():
        values = []
        for cell in row:  # "35.77 [28.4, 42.9]": the mean inside its 95% interval
            mean, low, high = (float(x) for x in re.findall(r"[0-9.]+", cell))
            assert low <= mean <= high
            values.append(mean)
        scores[name] = values
    assert all(0 < value < 100 for values in scores.values() for value in values)
    oracle = scores["Oracle (greedy, <= 3)"]
    assert all(oracle[0] >= values[0] for values in scores.values())
    with pytest.raises(CommandError, match="spoken-dir"):
        run("evaluate_summarizer", "--data", "spoken")
