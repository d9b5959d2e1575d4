"""Live captions from a growing audio stream: VAD + LocalAgreement-2 over a Whisper engine.

One `StreamingTranscriber` per live lecture. Audio goes in with `insert_audio` (any thread, any
chunk size); `process()` returns the captions that became final since the last call plus the
current partial line; `finish()` flushes everything when the broadcast stops.

Policy (ARCHITECTURE.md, "The live caption path"; the design follows ufal/whisper_streaming):
- Silero VAD runs on the unconfirmed audio buffer. Silence is never sent to Whisper; leading
  silence is trimmed; when speech is followed by `end_of_speech_s` of silence, everything heard so
  far is committed at once (the speaker paused, there is nothing to wait for).
- While speech goes on, the buffer is re-transcribed after every `min_chunk_s` of new audio.
  LocalAgreement-2: the longest word prefix on which the last two hypotheses agree is committed;
  the rest is the partial. Hypotheses of buffers under `min_agreement_audio_s` are shown but
  never commit (with one second of audio Whisper guesses badly, and the same way twice).
- Committed words become a `FinalCaption` at each sentence end (or after `max_final_s` without
  one); the audio buffer is then cut in the quietest 10 ms near that caption's end (not at
  Whisper's word end, which is often 0.1-0.2 s off), so the buffer holds just the audio of the
  current partial line.
- The buffer is capped at `max_buffer_s`: past it, the latest hypothesis is committed whole, so
  latency stays bounded even when two hypotheses never agree.
- The prompt is the course vocabulary plus the last `prompt_chars` of final text.
- Known silence hallucinations and repetition loops are removed from every hypothesis and again
  from every caption (`ml.caption_filters`).

All times in a `FinalCaption` are milliseconds from the start of the stream: captions follow one
another without overlapping (each starts at or after the previous one's end).

`insert_audio` may be called from any thread, also while `process` runs; `process` and `finish`
are serialized by a lock. Both are CPU-bound (they run Whisper): on an event loop, run them with
`ml.asr.run_in_asr_thread`, never directly.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

from ml.asr import SAMPLE_RATE, FloatAudio, SpeechRecognizer, TranscribedSegment
from ml.caption_filters import (
    collapse_repeated_characters,
    is_hallucination,
    is_prompt_echo,
    repetition_keep_mask,
    squash,
)

# CJK full-width forms and typographic closing quotes are written as escapes.
SENTENCE_END_CHARS = ".?!\u3002\uff1f\uff01\u2026"
CLAUSE_END_CHARS = ",\uff0c\u3001;\uff1b:"
_CLOSING_CHARS = "\"')]}\u00bb\u201d\u2019"


@dataclass(frozen=True)
class FinalCaption:
    start_ms: int  # from the start of the stream
    end_ms: int
    text: str


@dataclass(frozen=True)
class StreamUpdate:
    finals: list[FinalCaption]
    partial: str  # everything heard after the last final; may still change


@dataclass(frozen=True)
class StreamingConfig:
    min_chunk_s: float = 1.0  # re-transcribe after this much new audio
    # Hypotheses of shorter buffers are shown but never commit: Whisper guesses the first second
    # of an utterance badly and, with the same audio, guesses the same way twice.
    min_agreement_audio_s: float = 2.0
    # At a speech end, transcribe again if more than this much speech was not yet transcribed.
    # 0: any. A hypothesis that stopped 0.1 s short of the end has heard half a word ("learns
    # from this" for "from data"): with 0.2 s here the streamed WER was 12 % instead of 6-7 %
    # once transcriptions got fast enough to often land just before a sentence end.
    min_tail_s: float = 0.0
    vad_step_s: float = 0.2  # look for speech/silence at most this often
    # This much silence after speech commits everything. Lecturers pause 0.3-0.6 s between
    # sentences; 0.6 s left those sentences waiting for LocalAgreement (bench: p95 up by ~1 s).
    end_of_speech_s: float = 0.4
    max_buffer_s: float = 20.0  # unconfirmed audio beyond this is force-committed
    max_final_s: float = 8.0  # a caption without a sentence end is cut after this long
    pre_roll_s: float = 0.3  # audio kept before detected speech (VAD starts late)
    # After a caption the buffer is cut at the quietest 10 ms this close to its last word's end:
    # Whisper's word ends are 0.1-0.2 s off, and a cut inside a word leaves a fragment that the
    # next hypothesis misreads ("...from data." + "ta, please ask" heard as "Plimax").
    cut_search_before_s: float = 0.15
    cut_search_after_s: float = 0.3
    speech_pad_s: float = 0.2  # audio kept after detected speech
    vad_threshold: float = 0.5
    min_speech_s: float = 0.25  # shorter blips (clicks, coughs) are not speech
    prompt_chars: int = 200  # final text fed back as the prompt
    vocabulary_chars: int = 200


@dataclass(frozen=True)
class TimedWord:
    start: float  # seconds from the start of the stream
    end: float
    text: str  # Whisper's spelling, leading space included

    @property
    def key(self) -> str:
        return squash(self.text) or self.text.strip()


@dataclass
class StreamStats:
    """For the ASR real-time-factor metric: inference time per second of audio."""

    audio_s: float = 0.0
    inference_s: float = 0.0
    transcriptions: int = 0
    last_inference_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.inference_s / self.audio_s if self.audio_s else 0.0


class SpeechDetector(Protocol):
    """Finds speech in 16 kHz audio: (start, end) sample pairs, unpadded, in order.

    A region still open at the end of the audio ends at `len(audio)`; a region counts as closed
    only after `end_of_speech_s` of silence. Tests inject a simple energy detector.
    """

    def __call__(self, audio: FloatAudio) -> list[tuple[int, int]]: ...


class SileroSpeechDetector:
    """Silero VAD as shipped inside faster-whisper (ONNX, one thread, about 2 ms per second)."""

    def __init__(self, config: StreamingConfig) -> None:
        self.options = VadOptions(
            threshold=config.vad_threshold,
            min_speech_duration_ms=round(config.min_speech_s * 1000),
            min_silence_duration_ms=round(config.end_of_speech_s * 1000),
            speech_pad_ms=0,  # padding is the policy's business, in stream time
        )

    def __call__(self, audio: FloatAudio) -> list[tuple[int, int]]:
        regions = get_speech_timestamps(audio, self.options, sampling_rate=SAMPLE_RATE)
        return [(int(region["start"]), int(region["end"])) for region in regions]


class LocalAgreement:
    """LocalAgreement-2 over timed words (whisper_streaming's HypothesisBuffer).

    Commits the longest prefix shared by the new hypothesis and the previous one. Words of a new
    hypothesis that lie before the last committed word (its audio is still in the buffer and is
    transcribed again) are skipped by time, and an n-gram that repeats the tail of the committed
    text is skipped by content, so nothing is committed twice.
    """

    TIME_TOLERANCE_S = 0.1  # word timestamps jitter between runs
    OVERLAP_WINDOW_S = 1.0
    MAX_OVERLAP_WORDS = 5

    def __init__(self) -> None:
        self._unconfirmed: list[TimedWord] = []
        self._recent_committed: list[TimedWord] = []
        self._last_committed_end = float("-inf")
        self._comparable = False

    @property
    def unconfirmed(self) -> list[TimedWord]:
        return list(self._unconfirmed)

    @property
    def last_committed_end(self) -> float:
        return self._last_committed_end

    def _new_words(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        words = [
            word
            for word in hypothesis
            if word.start > self._last_committed_end - self.TIME_TOLERANCE_S
        ]
        recent = self._recent_committed
        if words and recent and abs(words[0].start - self._last_committed_end) < 1.0:
            for size in range(min(len(recent), len(words), self.MAX_OVERLAP_WORDS), 0, -1):
                tail = [word.key for word in recent[-size:]]
                if [word.key for word in words[:size]] == tail:
                    return words[size:]
        return words

    def _remember(self, committed: Sequence[TimedWord]) -> None:
        if committed:
            self._recent_committed = (self._recent_committed + list(committed))[
                -self.MAX_OVERLAP_WORDS :
            ]
            self._last_committed_end = committed[-1].end

    def insert(
        self, hypothesis: Sequence[TimedWord], *, may_commit: bool = True
    ) -> list[TimedWord]:
        """Add the newest hypothesis; return the words it commits.

        A hypothesis inserted with `may_commit=False` is only shown: it neither commits nor
        counts as the "previous" hypothesis that the next one must agree with.
        """
        new = self._new_words(hypothesis)
        agreed = 0
        if may_commit and self._comparable:
            for current, previous in zip(new, self._unconfirmed, strict=False):
                if current.key != previous.key:
                    break
                agreed += 1
        committed = new[:agreed]  # the newer timing: it saw more audio
        self._unconfirmed = new[agreed:]
        self._comparable = may_commit
        self._remember(committed)
        return committed

    def commit_all(self, hypothesis: Sequence[TimedWord] | None = None) -> list[TimedWord]:
        """Commit without agreement: the given hypothesis' new words, else the unconfirmed ones.

        Unconfirmed words heard after the end of the given hypothesis are kept too: Whisper
        sometimes gives up on a long buffer ("이" for ten seconds), and words already shown in
        the partial must not vanish at the end of an utterance.
        """
        if hypothesis is None:
            committed = list(self._unconfirmed)
        else:
            committed = self._new_words(hypothesis)
            heard_until = committed[-1].end if committed else self._last_committed_end
            committed += [word for word in self._unconfirmed if word.start >= heard_until]
        self._unconfirmed = []
        self._comparable = False
        self._remember(committed)
        return committed


def _ends_with(word: TimedWord, chars: str) -> bool:
    stripped = word.text.strip().rstrip(_CLOSING_CHARS)
    return bool(stripped) and stripped[-1] in chars


def _join_words(words: Sequence[TimedWord]) -> str:
    # faster-whisper words carry their own leading spaces (none for Chinese or Japanese).
    return " ".join("".join(word.text for word in words).split())


class StreamingTranscriber:
    """Per-lecture streaming state over a shared `SpeechRecognizer`."""

    _EMITTED_TAIL_WORDS = 16  # loop guard memory across captions

    def __init__(
        self,
        engine: SpeechRecognizer,
        *,
        language: str,
        vocabulary: Sequence[str] | str = (),
        config: StreamingConfig | None = None,
        speech_detector: SpeechDetector | None = None,
    ) -> None:
        self.engine = engine
        self.language = language
        self.config = config if config is not None else StreamingConfig()
        terms = [vocabulary] if isinstance(vocabulary, str) else list(vocabulary)
        self._vocabulary = ", ".join(term.strip() for term in terms if term.strip())[
            : self.config.vocabulary_chars
        ]
        self.stats = StreamStats()
        self._speech_detector = (
            speech_detector if speech_detector is not None else SileroSpeechDetector(self.config)
        )

        self._incoming: list[FloatAudio] = []
        self._incoming_lock = threading.Lock()
        self._step_lock = threading.Lock()

        self._audio: FloatAudio = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # stream sample index of self._audio[0]
        self._transcribed_until = 0  # stream sample where the last transcription's audio ended
        self._vad_checked_until = 0
        self._agreement = LocalAgreement()
        self._pending: list[TimedWord] = []  # committed, waiting for a sentence end
        self._emitted_tail: list[str] = []
        self._prompt_tail = ""
        self._last_end_ms = 0

    # -- input ---------------------------------------------------------------------------------

    def insert_audio(self, chunk: FloatAudio) -> None:
        """Append 16 kHz mono float32 samples. Safe to call from any thread."""
        samples = np.asarray(chunk, dtype=np.float32).reshape(-1).copy()
        with self._incoming_lock:
            self._incoming.append(samples)

    def _drain_incoming(self) -> None:
        with self._incoming_lock:
            chunks, self._incoming = self._incoming, []
        if chunks:
            self._audio = np.concatenate([self._audio, *chunks])

    # -- time bookkeeping ----------------------------------------------------------------------

    @property
    def _buffer_end(self) -> int:
        return self._buffer_start + len(self._audio)

    @property
    def buffer_start_s(self) -> float:
        """Stream time where the unconfirmed audio buffer begins (everything before is final)."""
        return self._buffer_start / SAMPLE_RATE

    @property
    def stream_duration_s(self) -> float:
        with self._incoming_lock:
            queued = sum(len(chunk) for chunk in self._incoming)
        return (self._buffer_end + queued) / SAMPLE_RATE

    @staticmethod
    def _samples(seconds: float) -> int:
        return round(seconds * SAMPLE_RATE)

    def _drop_audio_before(self, sample: int) -> None:
        sample = min(max(sample, self._buffer_start), self._buffer_end)
        self._audio = self._audio[sample - self._buffer_start :]
        self._buffer_start = sample
        # Audio that was never transcribed and is now gone must not count as "new audio".
        self._transcribed_until = max(self._transcribed_until, sample)

    # -- public steps --------------------------------------------------------------------------

    def process(self) -> StreamUpdate:
        """Consume the audio inserted so far; return new finals and the current partial."""
        with self._step_lock:
            self._drain_incoming()
            finals: list[FinalCaption] = []
            if self._buffer_end - self._vad_checked_until >= self._samples(self.config.vad_step_s):
                finals = self._step()
            return StreamUpdate(finals=finals, partial=self.partial)

    def finish(self) -> StreamUpdate:
        """End of stream: commit and return everything still pending; the partial becomes empty."""
        with self._step_lock:
            self._drain_incoming()
            finals: list[FinalCaption] = []
            speech = self._speech_regions()
            hypothesis = None
            if speech and self._has_untranscribed_speech(speech[-1][1]):
                cut = min(self._buffer_end, speech[-1][1] + self._samples(self.config.speech_pad_s))
                hypothesis = self._transcribe(until=cut)
            finals += self._commit_everything(hypothesis)
            self._drop_audio_before(self._buffer_end)
            return StreamUpdate(finals=finals, partial="")

    @property
    def partial(self) -> str:
        words = self._pending + self._agreement.unconfirmed
        texts = [word.text for word in words]
        mask = repetition_keep_mask(self._emitted_tail + texts)[len(self._emitted_tail) :]
        text = _join_words([word for word, kept in zip(words, mask, strict=True) if kept])
        return "" if is_hallucination(text) else text

    # -- the policy ----------------------------------------------------------------------------

    def _step(self) -> list[FinalCaption]:
        config = self.config
        self._vad_checked_until = self._buffer_end
        speech = self._speech_regions()
        finals: list[FinalCaption] = []

        if not speech:
            # Silence: whatever was heard before it is complete; keep only a little pre-roll.
            finals += self._commit_everything(hypothesis=None)
            self._drop_audio_before(self._buffer_end - self._samples(config.pre_roll_s))
            return finals

        if not self._pending and not self._agreement.unconfirmed:
            self._drop_audio_before(speech[0][0] - self._samples(config.pre_roll_s))

        speech_end = speech[-1][1]
        if self._buffer_end - speech_end >= self._samples(config.end_of_speech_s):
            cut = min(self._buffer_end, speech_end + self._samples(config.speech_pad_s))
            hypothesis = None
            if self._has_untranscribed_speech(speech_end):
                hypothesis = self._transcribe(until=cut)
            finals += self._commit_everything(hypothesis)
            self._drop_audio_before(cut)
            return finals

        if self._buffer_end - self._transcribed_until >= self._samples(config.min_chunk_s):
            hypothesis = self._transcribe(until=self._buffer_end)
            long_enough = len(self._audio) >= self._samples(config.min_agreement_audio_s)
            self._pending += self._agreement.insert(hypothesis, may_commit=long_enough)
            finals += self._emit_complete_captions()
            if len(self._audio) > self._samples(config.max_buffer_s):
                finals += self._commit_everything(hypothesis=None)
                if len(self._audio) > self._samples(config.max_buffer_s):
                    # Speech Whisper makes no words of (music, noise): do not keep it forever.
                    self._drop_audio_before(self._buffer_end - self._samples(config.min_chunk_s))
        return finals

    def _has_untranscribed_speech(self, speech_end: int) -> bool:
        return speech_end - self._transcribed_until > self._samples(self.config.min_tail_s)

    def _speech_regions(self) -> list[tuple[int, int]]:
        """Speech in the buffer as (start, end) stream samples, unpadded."""
        if len(self._audio) == 0:
            return []
        return [
            (self._buffer_start + start, self._buffer_start + end)
            for start, end in self._speech_detector(self._audio)
        ]

    def _prompt(self) -> str | None:
        prompt = " ".join(part for part in (self._vocabulary, self._prompt_tail) if part)
        return prompt or None

    def _transcribe(self, *, until: int) -> list[TimedWord]:
        audio = self._audio[: until - self._buffer_start]
        started = time.perf_counter()
        segments = self.engine.transcribe(audio, language=self.language, prompt=self._prompt())
        if self._prompt_tail and is_prompt_echo(
            " ".join(segment.text for segment in segments), self._prompt_tail
        ):
            # Whisper copied the last captions from its prompt rather than hearing the audio:
            # listen again without a prompt (the vocabulary alone biases short buffers too).
            segments = self.engine.transcribe(audio, language=self.language, prompt=None)
        elapsed = time.perf_counter() - started
        self.stats.audio_s += max(0, until - self._transcribed_until) / SAMPLE_RATE
        self.stats.inference_s += elapsed
        self.stats.last_inference_s = elapsed
        self.stats.transcriptions += 1
        self._transcribed_until = until
        return self._clean_hypothesis(segments, offset_s=self._buffer_start / SAMPLE_RATE)

    @staticmethod
    def _clean_hypothesis(
        segments: Sequence[TranscribedSegment], *, offset_s: float
    ) -> list[TimedWord]:
        """Stream-timed words without hallucinated segments or repetition loops."""
        words: list[TimedWord] = []
        for segment in segments:
            segment_words = [
                TimedWord(
                    start=offset_s + word.start,
                    end=offset_s + max(word.end, word.start),
                    text=collapse_repeated_characters(word.text),
                )
                for word in segment.words
            ]
            segment_words = [word for word in segment_words if word.text.strip()]
            mask = repetition_keep_mask([word.text for word in segment_words])
            segment_words = [word for word, kept in zip(segment_words, mask, strict=True) if kept]
            if not segment_words or is_hallucination(_join_words(segment_words)):
                continue
            words += segment_words
        mask = repetition_keep_mask([word.text for word in words])
        return [word for word, kept in zip(words, mask, strict=True) if kept]

    def _commit_everything(self, hypothesis: list[TimedWord] | None) -> list[FinalCaption]:
        words = self._pending + self._agreement.commit_all(hypothesis)
        self._pending = []
        return self._finalize(words)

    def _emit_complete_captions(self) -> list[FinalCaption]:
        """Turn committed words up to the last sentence end into captions."""
        last_end = max(
            (i for i, word in enumerate(self._pending) if _ends_with(word, SENTENCE_END_CHARS)),
            default=-1,
        )
        if last_end < 0 and self._pending:
            span = self._pending[-1].end - self._pending[0].start
            if span >= self.config.max_final_s:
                clause_ends = [
                    i for i, word in enumerate(self._pending) if _ends_with(word, CLAUSE_END_CHARS)
                ]
                last_end = clause_ends[-1] if clause_ends else len(self._pending) - 1
        if last_end < 0:
            return []
        ready, self._pending = self._pending[: last_end + 1], self._pending[last_end + 1 :]
        return self._finalize(ready)

    def _finalize(self, words: list[TimedWord]) -> list[FinalCaption]:
        """Captions from committed words, one per sentence; trims the audio they came from."""
        if not words:
            return []
        captions: list[FinalCaption] = []
        sentence: list[TimedWord] = []
        for word in words:
            sentence.append(word)
            if _ends_with(word, SENTENCE_END_CHARS):
                captions += self._make_caption(sentence)
                sentence = []
        captions += self._make_caption(sentence)
        # Their audio is done with; the next transcription starts after the last word, but not
        # after a word already heard (committed or not) that follows it.
        later_starts = [
            word.start
            for word in self._pending + self._agreement.unconfirmed
            if word.start >= words[-1].end
        ]
        not_after = self._samples(min(later_starts)) if later_starts else self._buffer_end
        self._drop_audio_before(self._quiet_sample_near(words[-1].end, not_after=not_after))
        return captions

    def _quiet_sample_near(self, seconds: float, *, not_after: int) -> int:
        """The middle of the quietest 10 ms of the buffer around stream time `seconds`."""
        frame = SAMPLE_RATE // 100
        low = max(self._buffer_start, self._samples(seconds - self.config.cut_search_before_s))
        high = min(
            self._buffer_end, not_after, self._samples(seconds + self.config.cut_search_after_s)
        )
        frames = (high - low) // frame
        if frames < 2:
            return self._samples(seconds)
        window = self._audio[low - self._buffer_start : low - self._buffer_start + frames * frame]
        energy = np.square(window).reshape(frames, frame).mean(axis=1)
        return low + int(np.argmin(energy)) * frame + frame // 2

    def _make_caption(self, words: list[TimedWord]) -> list[FinalCaption]:
        texts = [word.text for word in words]
        mask = repetition_keep_mask(self._emitted_tail + texts)[len(self._emitted_tail) :]
        kept = [word for word, keep in zip(words, mask, strict=True) if keep]
        text = _join_words(kept)
        if not text or is_hallucination(text):
            return []
        start_ms = max(round(kept[0].start * 1000), self._last_end_ms)
        end_ms = max(round(kept[-1].end * 1000), start_ms)
        self._last_end_ms = end_ms
        self._emitted_tail = (self._emitted_tail + [word.text for word in kept])[
            -self._EMITTED_TAIL_WORDS :
        ]
        tail = f"{self._prompt_tail} {text}".strip()
        if len(tail) > self.config.prompt_chars:
            tail = tail[-self.config.prompt_chars :]
            tail = tail.split(" ", 1)[1] if " " in tail else tail  # start on a word
        self._prompt_tail = tail
        return [FinalCaption(start_ms=start_ms, end_ms=end_ms, text=text)]
