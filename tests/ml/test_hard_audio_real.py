"""Hard audio through the real Whisper base model: espeak-ng's Korean voice, which Whisper reads
badly (it loops, counts, invents stock lines and copies its prompt on it). Whatever it hears,
no caption may loop, be a known invented line, or be the course vocabulary; and the output may
not grow past the speech it came from. Both paths: live (streamed) and whole-file.
"""

from pathlib import Path

import pytest

from hearus_testkit.read_speech import KOREAN_PASSAGES, KOREAN_VOCABULARY, Clip, make_clip
from ml.asr import WhisperEngine
from ml.caption_filters import has_repetition_loop, is_hallucination, is_prompt_echo, squash
from ml.offline import TranscriptionStats, transcribe_streaming, transcribe_whole

LISTED_LINES = (
    "이 영상은",
    "시청해 주셔서 감사합니다",
    "구독과 좋아요",
    "MBC 뉴스",
    "자막 제공",
    "Thanks for watching",
    "Subtitles by",
)


@pytest.fixture(scope="module", params=[passage.name for passage in KOREAN_PASSAGES])
def korean_clip(request: pytest.FixtureRequest, speech_dir: Path) -> Clip:
    passage = next(p for p in KOREAN_PASSAGES if p.name == request.param)
    return make_clip(passage, speech_dir)


def assert_honest(texts: list[str], clip: Clip) -> None:
    joined = " ".join(texts)
    print(f"\n{clip.passage.name}: {joined}")
    for text in texts:
        assert not has_repetition_loop(text), text
        assert not is_hallucination(text), text
        assert not is_prompt_echo(text, KOREAN_VOCABULARY), text
    assert not has_repetition_loop(joined), joined
    for line in LISTED_LINES:
        assert squash(line) not in squash(joined), line
    # Loops and invented lines made the stream grow to 1.7 times the speech before.
    assert len(squash(joined)) <= 1.2 * len(squash(clip.passage.text))


def test_korean_stream_never_loops_or_invents(engine: WhisperEngine, korean_clip: Clip) -> None:
    cues = transcribe_streaming(
        engine, korean_clip.audio, language="ko", vocabulary=KOREAN_VOCABULARY
    )
    assert cues
    assert_honest([cue.text for cue in cues], korean_clip)


def test_korean_whole_file_never_loops_or_invents(engine: WhisperEngine, korean_clip: Clip) -> None:
    stats = TranscriptionStats()
    cues = transcribe_whole(engine, korean_clip.audio, language="ko", stats=stats)
    assert cues
    assert_honest([cue.text for cue in cues], korean_clip)
    assert stats.dropped_words == sum(stats.dropped_by_reason.values())
