"""`manage.py transcribe`: the server's Whisper model on espeak-ng recordings, whole and streamed.

The model is the one `captions.engine.get_engine` loads (once per process) from the settings; no
database is used.
"""

import io
import itertools
import json
import re
from pathlib import Path

import pytest
import webvtt
from django.core.management import call_command
from django.core.management.base import CommandError

from captions.management.commands.transcribe import Command
from hearus_testkit.speech import synthesize_wav
from hearus_testkit.texts import ENGLISH_TEXT, KOREAN_TEXT
from ml.caption_filters import has_repetition_loop, is_hallucination
from ml.error_rates import word_error_rate

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("transcribe-command")


@pytest.fixture(scope="module")
def english_wav(speech_dir: Path) -> Path:
    return synthesize_wav(ENGLISH_TEXT, "en-us", speech_dir)


@pytest.fixture(scope="module")
def korean_wav(speech_dir: Path) -> Path:
    return synthesize_wav(KOREAN_TEXT, "ko", speech_dir)


def transcribe(*args: str) -> tuple[str, str]:
    """Run the command; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("transcribe", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def assert_summary(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert re.search(r"\d+\.\d s of audio", lines[0])
    assert re.search(r"real-time factor \d+\.\d\d", lines[0])


def test_english_whole_file_as_vtt(english_wav: Path) -> None:
    output, summary = transcribe(str(english_wav), "--language", "en", "--format", "vtt")

    captions = webvtt.from_string(output, strict=True).captions
    text = " ".join(caption.text.replace("\n", " ") for caption in captions)
    wer = word_error_rate(ENGLISH_TEXT, text)
    print(f"\nwhole file: WER {wer:.3f}; {summary.strip()}\n{output}")
    assert wer < 0.15
    assert len(captions) >= 2  # cues, not one block
    starts = [caption.start_time.in_milliseconds() for caption in captions]
    assert starts == sorted(starts)
    assert_summary(summary)
    assert "whole file" in summary


def test_english_streamed_as_json(english_wav: Path) -> None:
    output, summary = transcribe(
        str(english_wav), "--language", "en", "--format", "json", "--stream"
    )

    cues = json.loads(output)
    assert cues and all(set(cue) == {"start_ms", "end_ms", "text"} for cue in cues)
    wer = word_error_rate(ENGLISH_TEXT, " ".join(cue["text"] for cue in cues))
    print(f"\nstreamed: WER {wer:.3f}; {summary.strip()}\n{output}")
    assert wer < 0.15
    for before, after in itertools.pairwise(cues):
        assert before["end_ms"] <= after["start_ms"]
    assert_summary(summary)
    assert "streamed" in summary


def test_korean_gives_hangul_without_loops(korean_wav: Path) -> None:
    output, summary = transcribe(str(korean_wav), "--language", "ko")

    print(f"\nKorean: {summary.strip()}\n{output}")
    lines = output.splitlines()
    assert lines
    assert HANGUL.search(output)
    for line in lines:
        assert not is_hallucination(line)
        assert not has_repetition_loop(line), line
    assert "ko" in summary


def test_korean_is_the_default_language() -> None:
    parser = Command().create_parser("manage.py", "transcribe")
    options = parser.parse_args(["lecture.m4a"])
    assert options.language == "ko"
    assert options.format == "txt"
    assert options.stream is False


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"absent\.mp3: no such file"):
        transcribe(str(tmp_path / "absent.mp3"))


def test_not_a_media_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp3"
    notes.write_text("These are lecture notes, not a recording.\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"notes\.mp3 is not an audio or video file.*Use WAV"):
        transcribe(str(notes))

    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(CommandError, match=r"empty\.wav is empty"):
        transcribe(str(empty))


def test_bad_language_and_format(english_wav: Path) -> None:
    with pytest.raises(CommandError, match=r"--language: invalid choice: 'fr'"):
        transcribe(str(english_wav), "--language", "fr")
    with pytest.raises(CommandError, match=r"--format: invalid choice: 'docx'"):
        transcribe(str(english_wav), "--format", "docx")
