"""Captions for a whole recording, two ways.

- `transcribe_whole`: plain faster-whisper over the entire file (any length: it walks the audio in
  30 s windows itself), Silero VAD on, greedy decoding at temperature 0 only, the language forced,
  no conditioning on earlier windows, at most `WhisperEngine.token_budget(30 s)` new tokens per
  30 s window (a loop cannot cost more than about twice what speech does); speech that Whisper
  skipped (a window ended early) is transcribed again on its own. The words are cleaned by
  `ml.words.clean_segments`, as in the live path: decodes whose own signals say they were
  invented, known hallucination lines and repetition loops (within a segment and across
  segments) are dropped; `TranscriptionStats` counts the dropped words. Word
  timestamps split Whisper's segments into readable cues: one per sentence, cut at a pause, and
  at a clause end (or a word) when a cue would run past `max_cue_s` or `max_cue_chars`.
- `transcribe_streaming`: the file fed through `ml.streaming.StreamingTranscriber` in small chunks
  at real-time pace on a simulated clock (`stream_in_simulated_time`: no waiting, but the
  transcriber sees the lag it would see live, so its load policy acts as it would); the finals
  are what live viewers would have received on this machine.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

from ml.asr import (
    SAMPLE_RATE,
    FloatAudio,
    SpeechRecognizer,
    TranscribedSegment,
    WhisperEngine,
    collect_segments,
)
from ml.caption_filters import is_hallucination
from ml.streaming import (
    FinalCaption,
    StreamingConfig,
    StreamingTranscriber,
)
from ml.subtitles import Cue
from ml.words import (
    CLAUSE_END_CHARS,
    SENTENCE_END_CHARS,
    TimedWord,
    clean_segments,
    count_reasons,
    ends_with,
    join_words,
    shifted,
)

# Cue shaping for whole-file transcripts (two subtitle lines of 42 characters hold 84).
MAX_CUE_S = 7.0
MAX_CUE_CHARS = 84
PAUSE_S = 1.0  # a silence this long between words starts a new cue
# Uncovered speech at least this long is transcribed again (see `transcribe_whole`).
MIN_SKIPPED_SPEECH_S = 2.0
WINDOW_S = 30.0  # faster-whisper decodes a recording in windows of this length


@dataclass
class TranscriptionStats:
    """What a whole-file transcription dropped (words, by `ml.words.DROP_REASONS`)."""

    dropped_words: int = 0
    dropped_by_reason: Counter[str] = field(default_factory=Counter)


def transcribe_whole(
    engine: WhisperEngine,
    audio: FloatAudio,
    *,
    language: str,
    max_cue_s: float = MAX_CUE_S,
    max_cue_chars: int = MAX_CUE_CHARS,
    recover_skipped_s: float | None = MIN_SKIPPED_SPEECH_S,
    stats: TranscriptionStats | None = None,
) -> list[Cue]:
    """Cues for 16 kHz mono `audio` of any length, transcribed in one faster-whisper pass.

    Whisper sometimes ends a 30 s window early (an end-of-text right after a timestamp), and
    faster-whisper, like openai-whisper, then moves on to the next window: the rest of the
    window's speech is lost. Unless `recover_skipped_s` is None, stretches of at least that many
    seconds that no segment covers and in which Silero VAD finds speech are transcribed again on
    their own (once; with the same decoding options). What the filters dropped is added to
    `stats` when one is given.
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
    cleaned = clean_segments(segments)
    if stats is not None:
        reasons = count_reasons(cleaned.dropped)
        stats.dropped_by_reason.update(reasons)
        stats.dropped_words += sum(reasons.values())
    return words_to_cues(cleaned.kept, max_cue_s=max_cue_s, max_cue_chars=max_cue_chars)


def _decode(
    engine: WhisperEngine,
    samples: FloatAudio,
    *,
    language: str,
    vad_filter: bool,
    offset_s: float = 0.0,
) -> list[TranscribedSegment]:
    """Segments on the recording's time line (`offset_s` is where `samples` start in it)."""
    segments, _info = engine.model.transcribe(
        samples,
        **engine.greedy_options(language),
        vad_filter=vad_filter,
        max_new_tokens=engine.token_budget(min(WINDOW_S, samples.size / SAMPLE_RATE)),
    )
    return [shifted(segment, offset_s) for segment in collect_segments(segments)]


def _skipped_speech(
    samples: FloatAudio, segments: Sequence[TranscribedSegment], *, min_s: float
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
            word.end - current[0].start > max_cue_s
            or len(join_words([*current, word])) > max_cue_chars
        ):
            clause_ends = [i for i, w in enumerate(current) if ends_with(w, CLAUSE_END_CHARS)]
            cut = clause_ends[-1] + 1 if clause_ends else len(current)
            groups.append(current[:cut])
            current = current[cut:]
        current.append(word)
        if ends_with(word, SENTENCE_END_CHARS):
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    cues: list[Cue] = []
    last_end_ms = 0
    for group in groups:
        text = join_words(group)
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
    """The finals live viewers would get if `audio` were broadcast in `chunk_s` pieces on this
    machine, now (see `stream_in_simulated_time`; runs as fast as the decodes allow)."""
    transcriber = StreamingTranscriber(
        engine, language=language, vocabulary=vocabulary, config=config
    )
    timed = stream_in_simulated_time(transcriber, audio, chunk_s=chunk_s)
    return [Cue(start_ms=f.start_ms, end_ms=f.end_ms, text=f.text) for _, f in timed]


def stream_in_simulated_time(
    transcriber: StreamingTranscriber, audio: FloatAudio, *, chunk_s: float = 0.2
) -> list[tuple[float, FinalCaption]]:
    """Broadcast `audio` into `transcriber` at real-time pace on a simulated clock, without
    waiting for it: the clock jumps over the idle time between chunks and advances by the real
    wall time of each `process()` call, during which the next chunks "arrive". The transcriber
    thus sees exactly the lag it would see live on this machine (its load policy reacts to it)
    and the result is what live viewers would get. Returns (simulated seconds at which each
    final came out, final): its latency is that minus the final's `end_ms`."""
    if chunk_s <= 0:
        raise ValueError("chunk_s must be positive")
    samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    step = max(1, round(chunk_s * SAMPLE_RATE))
    finals: list[tuple[float, FinalCaption]] = []
    now = 0.0
    sent = 0
    while sent < samples.size:
        arrived = min(samples.size, round(now * SAMPLE_RATE) // step * step)
        if arrived <= sent:
            now = (sent + step) / SAMPLE_RATE  # idle until the next chunk
            continue
        transcriber.insert_audio(samples[sent:arrived])
        sent = arrived
        started = time.perf_counter()
        update = transcriber.process()
        now += time.perf_counter() - started
        finals += [(now, final) for final in update.finals]
    started = time.perf_counter()
    update = transcriber.finish()
    now += time.perf_counter() - started
    finals += [(now, final) for final in update.finals]
    return finals


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
