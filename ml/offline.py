"""Captions for a whole recording, two ways.

- `transcribe_whole`: plain faster-whisper over the entire file (any length: it walks the audio in
  30 s windows itself), Silero VAD on, greedy decoding at temperature 0 only, the language forced,
  no conditioning on earlier windows; speech that Whisper skipped (a window ended early) is
  transcribed again on its own. Segments that are known hallucinations are dropped and
  repetition loops are cut with `ml.caption_filters`, within a segment and across segments. Word
  timestamps split Whisper's segments into readable cues: one per sentence, cut at a pause, and
  at a clause end (or a word) when a cue would run past `max_cue_s` or `max_cue_chars`.
- `transcribe_streaming`: the file fed through `ml.streaming.StreamingTranscriber` in small chunks
  as fast as the CPU allows; the finals are exactly what live viewers would have received.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

from ml.asr import SAMPLE_RATE, FloatAudio, SpeechRecognizer, WhisperEngine
from ml.caption_filters import collapse_repeated_characters, is_hallucination, repetition_keep_mask
from ml.streaming import (
    CLAUSE_END_CHARS,
    SENTENCE_END_CHARS,
    FinalCaption,
    StreamingConfig,
    StreamingTranscriber,
    TimedWord,
)
from ml.subtitles import Cue

# Cue shaping for whole-file transcripts (two subtitle lines of 42 characters hold 84).
MAX_CUE_S = 7.0
MAX_CUE_CHARS = 84
PAUSE_S = 1.0  # a silence this long between words starts a new cue
# Uncovered speech at least this long is transcribed again (see `transcribe_whole`).
MIN_SKIPPED_SPEECH_S = 2.0
_LOOP_MEMORY_WORDS = 16  # words of earlier cues the loop guard still sees
_CLOSING_CHARS = "\"')]}\u00bb\u201d\u2019"


@dataclass(frozen=True)
class _Segment:
    start: float  # seconds from the start of the audio
    end: float
    words: tuple[TimedWord, ...]


def transcribe_whole(
    engine: WhisperEngine,
    audio: FloatAudio,
    *,
    language: str,
    max_cue_s: float = MAX_CUE_S,
    max_cue_chars: int = MAX_CUE_CHARS,
    recover_skipped_s: float | None = MIN_SKIPPED_SPEECH_S,
) -> list[Cue]:
    """Cues for 16 kHz mono `audio` of any length, transcribed in one faster-whisper pass.

    Whisper sometimes ends a 30 s window early (an end-of-text right after a timestamp), and
    faster-whisper, like openai-whisper, then moves on to the next window: the rest of the
    window's speech is lost. Unless `recover_skipped_s` is None, stretches of at least that many
    seconds that no segment covers and in which Silero VAD finds speech are transcribed again on
    their own (once; with the same decoding options).
    """
    samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        return []
    segments = _decode(engine, samples, language=language, vad_filter=True)
    if recover_skipped_s is not None:
        for start, end in _skipped_speech(samples, segments, min_s=recover_skipped_s):
            piece = samples[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
            segments += _decode(engine, piece, language=language, vad_filter=False, offset_s=start)
        segments.sort(key=lambda segment: segment.start)
    words = _clean_words(segment.words for segment in segments)
    return words_to_cues(words, max_cue_s=max_cue_s, max_cue_chars=max_cue_chars)


def _decode(
    engine: WhisperEngine,
    samples: FloatAudio,
    *,
    language: str,
    vad_filter: bool,
    offset_s: float = 0.0,
) -> list[_Segment]:
    segments, _info = engine.model.transcribe(
        samples, **engine.greedy_options(language), vad_filter=vad_filter
    )
    return [
        _Segment(
            start=offset_s + float(segment.start),
            end=offset_s + float(segment.end),
            # The segment as one word if it has none.
            words=tuple(
                TimedWord(
                    start=offset_s + float(word.start),
                    end=offset_s + float(word.end),
                    text=word.word,
                )
                for word in segment.words or ()
            )
            or (
                TimedWord(
                    start=offset_s + float(segment.start),
                    end=offset_s + float(segment.end),
                    text=segment.text,
                ),
            ),
        )
        for segment in segments  # a generator: decoding happens while iterating
    ]


def _skipped_speech(
    samples: FloatAudio, segments: Sequence[_Segment], *, min_s: float
) -> list[tuple[float, float]]:
    """Speech (per Silero VAD) of at least `min_s` seconds lying where no segment is."""
    duration_s = samples.size / SAMPLE_RATE
    gaps: list[tuple[float, float]] = []
    cursor = 0.0
    for segment in sorted(segments, key=lambda segment: segment.start):
        if segment.start - cursor >= min_s:
            gaps.append((cursor, segment.start))
        cursor = max(cursor, segment.end)
    if duration_s - cursor >= min_s:
        gaps.append((cursor, duration_s))

    skipped: list[tuple[float, float]] = []
    for gap_start, gap_end in gaps:
        first = round(gap_start * SAMPLE_RATE)
        regions = get_speech_timestamps(
            samples[first : round(gap_end * SAMPLE_RATE)], VadOptions(), sampling_rate=SAMPLE_RATE
        )
        for region in regions:
            start = (first + int(region["start"])) / SAMPLE_RATE
            end = (first + int(region["end"])) / SAMPLE_RATE
            if end - start >= min_s:
                skipped.append((start, end))
    return skipped


def _clean_words(segments: Iterable[Sequence[TimedWord]]) -> list[TimedWord]:
    """The words of the segments (word lists, in time order), hallucinated segments and loops
    removed."""
    kept_words: list[TimedWord] = []
    for segment in segments:
        words = [
            TimedWord(
                start=word.start,
                end=max(word.end, word.start),
                text=collapse_repeated_characters(word.text),
            )
            for word in segment
        ]
        words = [word for word in words if word.text.strip()]
        mask = repetition_keep_mask([word.text for word in words])
        words = [word for word, keep in zip(words, mask, strict=True) if keep]
        if not words or is_hallucination(_join(words)):
            continue
        # The loop guard also sees the end of what came before: a segment that repeats the
        # previous ones over and over is a loop too.
        memory = [word.text for word in kept_words[-_LOOP_MEMORY_WORDS:]]
        mask = repetition_keep_mask(memory + [word.text for word in words])[len(memory) :]
        kept_words += [word for word, keep in zip(words, mask, strict=True) if keep]
    return kept_words


def _join(words: Sequence[TimedWord]) -> str:
    # faster-whisper words carry their own leading spaces (none for Chinese or Japanese).
    return " ".join("".join(word.text for word in words).split())


def _ends_with(word: TimedWord, chars: str) -> bool:
    stripped = word.text.strip().rstrip(_CLOSING_CHARS)
    return bool(stripped) and stripped[-1] in chars


def words_to_cues(
    words: Sequence[TimedWord],
    *,
    max_cue_s: float = MAX_CUE_S,
    max_cue_chars: int = MAX_CUE_CHARS,
    pause_s: float = PAUSE_S,
) -> list[Cue]:
    """Timed words grouped into cues: a cue ends at a sentence end or a pause; one that would
    grow past `max_cue_s` or `max_cue_chars` ends at its last clause end, else before the word
    that does not fit. Cues never overlap."""
    groups: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in words:
        if current and word.start - current[-1].end >= pause_s:
            groups.append(current)
            current = []
        while current and (
            word.end - current[0].start > max_cue_s or len(_join([*current, word])) > max_cue_chars
        ):
            clause_ends = [i for i, w in enumerate(current) if _ends_with(w, CLAUSE_END_CHARS)]
            cut = clause_ends[-1] + 1 if clause_ends else len(current)
            groups.append(current[:cut])
            current = current[cut:]
        current.append(word)
        if _ends_with(word, SENTENCE_END_CHARS):
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    cues: list[Cue] = []
    last_end_ms = 0
    for group in groups:
        text = _join(group)
        if not text or is_hallucination(text):
            continue
        start_ms = max(round(group[0].start * 1000), last_end_ms)
        end_ms = max(round(group[-1].end * 1000), start_ms)
        cues.append(Cue(start_ms=start_ms, end_ms=end_ms, text=text))
        last_end_ms = end_ms
    return cues


def transcribe_streaming(
    engine: SpeechRecognizer,
    audio: FloatAudio,
    *,
    language: str,
    chunk_s: float = 0.2,
    vocabulary: Sequence[str] | str = (),
    config: StreamingConfig | None = None,
) -> list[Cue]:
    """The finals live viewers would get if `audio` were broadcast in `chunk_s` pieces.

    Runs as fast as the CPU allows: after each chunk `process()` is called (as the live path
    does when audio arrives), `finish()` at the end.
    """
    if chunk_s <= 0:
        raise ValueError("chunk_s must be positive")
    samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    transcriber = StreamingTranscriber(
        engine, language=language, vocabulary=vocabulary, config=config
    )
    step = max(1, round(chunk_s * SAMPLE_RATE))
    finals: list[FinalCaption] = []
    for start in range(0, samples.size, step):
        transcriber.insert_audio(samples[start : start + step])
        finals += transcriber.process().finals
    finals += transcriber.finish().finals
    return [Cue(start_ms=f.start_ms, end_ms=f.end_ms, text=f.text) for f in finals]


# -- long recordings in chunks ---------------------------------------------------------------------

# A chunk ends at the quietest 0.1 s within this many seconds before its nominal end, so a cut
# rarely falls inside a word.
CHUNK_SEARCH_S = 10.0
_FRAME_S = 0.1


def chunk_bounds(
    audio: FloatAudio, *, chunk_s: float, search_s: float = CHUNK_SEARCH_S
) -> list[tuple[int, int]]:
    """Sample ranges `[start, end)` covering `audio` in order, each at most `chunk_s` long,
    cut at the quietest moment of the last `search_s` seconds (at most half a chunk)."""
    if chunk_s <= 0:
        raise ValueError("chunk_s must be positive")
    total = int(audio.size)
    step = max(1, round(chunk_s * SAMPLE_RATE))
    frame = max(1, round(_FRAME_S * SAMPLE_RATE))
    bounds: list[tuple[int, int]] = []
    start = 0
    while total - start > step:
        nominal = start + step
        window = min(round(search_s * SAMPLE_RATE), step // 2)
        cut = nominal
        frames = window // frame
        if frames >= 2:
            lo = nominal - frames * frame
            energy = np.square(audio[lo:nominal].astype(np.float32)).reshape(frames, frame)
            quietest = int(np.argmin(energy.mean(axis=1)))
            cut = lo + quietest * frame + frame // 2
        bounds.append((start, cut))
        start = cut
    if total > start:
        bounds.append((start, total))
    return bounds


def transcribe_in_chunks(
    engine: WhisperEngine,
    audio: FloatAudio,
    *,
    language: str,
    chunk_s: float,
    on_chunk: Callable[[float, float], None] | None = None,
) -> list[Cue]:
    """`transcribe_whole` over `audio` in chunks of at most `chunk_s` seconds (see
    `chunk_bounds`), so a long recording reports progress: after each chunk `on_chunk(seconds
    done, seconds in all)` is called (it may raise to stop). Cue times are on the whole audio's
    time line and never overlap; a sentence that spans a cut becomes two cues."""
    samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    total_s = samples.size / SAMPLE_RATE
    cues: list[Cue] = []
    last_end_ms = 0
    for start, end in chunk_bounds(samples, chunk_s=chunk_s):
        offset_ms = round(start * 1000 / SAMPLE_RATE)
        for cue in transcribe_whole(engine, samples[start:end], language=language):
            start_ms = max(cue.start_ms + offset_ms, last_end_ms)
            end_ms = max(cue.end_ms + offset_ms, start_ms)
            cues.append(Cue(start_ms=start_ms, end_ms=end_ms, text=cue.text))
            last_end_ms = end_ms
        if on_chunk is not None:
            on_chunk(end / SAMPLE_RATE, total_s)
    return cues
