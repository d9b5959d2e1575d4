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
- The prompt is the course vocabulary plus the last `prompt_chars` of final text that Whisper
  was sure of (`prompt_min_probability`): a caption it guessed resets that part, or Whisper
  copies its guess into the next captions.
- Every hypothesis is cleaned by `ml.words.clean_segments` (the same clean-up as whole-file
  transcription): decodes Whisper's own signals reject, known hallucination lines, loops and
  vocabulary echoes are dropped; when a caption is made from words of several hypotheses,
  loops across captions, hallucination lines and vocabulary echoes are checked again.
  Words dropped from audio that became final are counted in `stats.dropped_words` /
  `stats.dropped_by_reason`.

Load policy. `lag_s` is the received audio that no decode has covered yet and that is not known
to be silence: how late the captions are. At each step the transcriber picks a `Mode`:
- ACCURATE while the lag is at most `accurate_max_lag_s` and a beam-search decode (measured, or
  estimated as twice a greedy one) takes at most `accurate_busy_ratio` of a step: every decode
  uses beam search (`accurate_beam_size`), so LocalAgreement compares better hypotheses and the
  final decode at each pause is the accurate one. A beam decode that turns out too slow sends it
  back to greedy; it is tried again after `_ACCURATE_RETRY_DECODES` greedy decodes.
- NORMAL: greedy, a decode per `min_chunk_s` of new speech (the policy above).
- BEHIND when the lag passes `behind_lag_s` or one greedy decode takes more than
  `behind_decode_s`: there is no time to wait for two hypotheses to agree, so words of a single
  hypothesis that end `behind_stable_margin_s` before its audio ends are committed at once; the
  buffer is capped at `behind_max_buffer_s`; it returns to NORMAL only once the lag is under
  `accurate_max_lag_s`.
- CATCH_UP when the lag passes `catch_up_lag_s` (a stall): each `catch_up_buffer_s` of speech
  is decoded once and its words committed (all but those of its last
  `behind_stable_margin_s`), no re-decodes, until the lag falls.
No mode skips audio: speech is only ever dropped after it was decoded (and its words committed),
so under load captions may be less accurate but nothing said vanishes.

All times in a `FinalCaption` are milliseconds from the start of the stream: captions follow one
another without overlapping (each starts at or after the previous one's end).

`insert_audio` may be called from any thread, also while `process` runs; `process` and `finish`
are serialized by a lock. Both are CPU-bound (they run Whisper): on an event loop, run them with
`ml.asr.run_in_asr_thread`, never directly.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

from ml.asr import SAMPLE_RATE, FloatAudio, SpeechRecognizer, TranscribedSegment
from ml.capacity import PROCESS_METER, CapacityMeter
from ml.caption_filters import is_hallucination, is_prompt_echo
from ml.words import (
    CLAUSE_END_CHARS,
    DROP_HALLUCINATION,
    DROP_PROMPT_ECHO,
    DROP_REPETITION,
    SENTENCE_END_CHARS,
    TimedWord,
    clean_segments,
    ends_with,
    join_words,
    without_repetitions,
)

__all__ = [
    "CLAUSE_END_CHARS",
    "SENTENCE_END_CHARS",
    "FinalCaption",
    "LocalAgreement",
    "Mode",
    "StreamStats",
    "StreamUpdate",
    "StreamingConfig",
    "StreamingTranscriber",
    "TimedWord",
]


@dataclass(frozen=True)
class FinalCaption:
    start_ms: int  # from the start of the stream
    end_ms: int
    text: str


class Mode:
    """How the transcriber spends CPU at a step (see "Load policy" in the module docstring)."""

    ACCURATE = "accurate"  # ahead of real time: beam search
    NORMAL = "normal"  # greedy, a decode per `min_chunk_s` of new speech
    BEHIND = "behind"  # longer steps, shorter buffer, single-hypothesis commits
    CATCH_UP = "catch_up"  # no re-decodes: each stretch of audio is decoded once and committed


@dataclass(frozen=True)
class StreamUpdate:
    finals: list[FinalCaption]
    partial: str  # everything heard after the last final; may still change
    # Seconds of received audio not yet transcribed (nor found silent) when `process` returned:
    # how late the captions are behind the speech.
    lag_s: float = 0.0
    mode: str = Mode.NORMAL


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
    # ... only from captions whose mean word probability is at least this; a less sure caption
    # empties the prompt. Read English decodes at 0.6-0.9, espeak-ng's Korean voice (which
    # Whisper mishears) at 0.1-0.5 (docs/benchmarks.md, "Recognition quality").
    prompt_min_probability: float = 0.5
    vocabulary_chars: int = 200
    # -- load policy (module docstring, "Load policy") --
    # Beam width when ahead of real time; 1 turns the accurate mode off.
    accurate_beam_size: int = 5
    # Accurate mode while the lag is at most this and an accurate decode is expected to take
    # at most `accurate_busy_ratio` of a step.
    accurate_max_lag_s: float = 1.5
    accurate_busy_ratio: float = 0.5
    # Degrade when the lag passes this, or when one greedy decode takes longer than
    # `behind_decode_s` (two agreeing hypotheses would then take more than 2.4 s). Not lower: a
    # quiet 2-core CPU takes 0.6-1.0 s to decode a 10 s buffer, and degrading a lecture that is
    # on time cost accuracy (streamed WER 16 % instead of 6.5 % on the English test speech).
    behind_lag_s: float = 2.0
    behind_decode_s: float = 1.2
    catch_up_lag_s: float = 5.0  # ... and above this lag stop re-decoding altogether.
    # Behind, a step is at least this many times the recent decode's cost (1: decode again as
    # soon as the last decode is done; longer steps made the finals later, not sooner, in the
    # simulated runs of tests/ml/test_streaming_load.py) ...
    behind_step_factor: float = 1.0
    max_behind_step_s: float = 4.0
    # ... the buffer is capped lower, and words of a single hypothesis that end this long before
    # its audio ends are committed without waiting for a second one to agree.
    behind_max_buffer_s: float = 8.0
    behind_stable_margin_s: float = 0.6
    # Catching up, each stretch of this much speech is decoded once and committed whole.
    catch_up_buffer_s: float = 6.0


@dataclass
class StreamStats:
    """For the metrics: inference time per second of audio, lag, what the filters dropped."""

    audio_s: float = 0.0
    inference_s: float = 0.0
    transcriptions: int = 0
    last_inference_s: float = 0.0
    # Decodes by mode (`Mode`); accurate ones used beam search.
    decodes_by_mode: Counter[str] = field(default_factory=Counter)
    # Words dropped from the text that became final, by reason (`ml.words.DROP_REASONS`):
    # export as a counter (increments of `dropped_words`).
    dropped_words: int = 0
    dropped_by_reason: Counter[str] = field(default_factory=Counter)
    lag_s: float = 0.0  # at the end of the last step
    max_lag_s: float = 0.0
    mode: str = Mode.NORMAL

    @property
    def real_time_factor(self) -> float:
        return self.inference_s / self.audio_s if self.audio_s else 0.0

    def count_dropped(self, reasons: Counter[str]) -> None:
        self.dropped_by_reason.update(reasons)
        self.dropped_words += sum(reasons.values())


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
        self,
        hypothesis: Sequence[TimedWord],
        *,
        may_commit: bool = True,
        commit_before: float | None = None,
    ) -> list[TimedWord]:
        """Add the newest hypothesis; return the words it commits.

        A hypothesis inserted with `may_commit=False` is only shown: it neither commits nor
        counts as the "previous" hypothesis that the next one must agree with. With
        `commit_before` (stream seconds), the hypothesis' leading words that end before it are
        committed without agreement too (the load policy, when there is no time for a second
        hypothesis).
        """
        new = self._new_words(hypothesis)
        agreed = 0
        if may_commit and self._comparable:
            for current, previous in zip(new, self._unconfirmed, strict=False):
                if current.key != previous.key:
                    break
                agreed += 1
        if may_commit and commit_before is not None:
            stable = 0
            while stable < len(new) and new[stable].end <= commit_before:
                stable += 1
            agreed = max(agreed, stable)
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


class StreamingTranscriber:
    """Per-lecture streaming state over a shared `SpeechRecognizer`."""

    _EMITTED_TAIL_WORDS = 24  # loop guard memory across captions (3 copies of an 8-gram)
    _COST_SMOOTHING = 0.3  # weight of the newest decode in the running cost estimates
    _ACCURATE_RETRY_DECODES = 30  # greedy decodes before a too-slow accurate mode is tried again

    def __init__(
        self,
        engine: SpeechRecognizer,
        *,
        language: str,
        vocabulary: Sequence[str] | str = (),
        config: StreamingConfig | None = None,
        speech_detector: SpeechDetector | None = None,
        clock: Callable[[], float] = time.perf_counter,
        meter: CapacityMeter | None = PROCESS_METER,
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
        self._clock = clock
        self._meter = meter

        self._incoming: list[FloatAudio] = []
        self._incoming_samples = 0
        self._incoming_lock = threading.Lock()
        self._step_lock = threading.Lock()

        self._audio: FloatAudio = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # stream sample index of self._audio[0]
        self._transcribed_until = 0  # stream sample where the last transcription's audio ended
        self._silent_until = 0  # stream sample up to which the audio is known to hold no speech
        self._vad_checked_until = 0
        self._agreement = LocalAgreement()
        self._pending: list[TimedWord] = []  # committed, waiting for a sentence end
        self._emitted_tail: list[str] = []
        self._prompt_tail = ""
        self._last_end_ms = 0

        self._mode = Mode.NORMAL
        self._greedy_cost: float | None = None  # running estimates of a decode's wall time
        self._accurate_cost: float | None = None
        self._greedy_since_accurate = 0
        self._dropped: list[tuple[TimedWord, str]] = []  # from the latest hypothesis
        self._drops_counted_until = float("-inf")  # stream seconds

    # -- input ---------------------------------------------------------------------------------

    def insert_audio(self, chunk: FloatAudio) -> None:
        """Append 16 kHz mono float32 samples. Safe to call from any thread."""
        samples = np.asarray(chunk, dtype=np.float32).reshape(-1).copy()
        with self._incoming_lock:
            self._incoming.append(samples)
            self._incoming_samples += samples.size

    def _drain_incoming(self) -> None:
        with self._incoming_lock:
            chunks, self._incoming = self._incoming, []
            self._incoming_samples = 0
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
            queued = self._incoming_samples
        return (self._buffer_end + queued) / SAMPLE_RATE

    @property
    def lag_s(self) -> float:
        """Seconds of received audio that no transcription has covered yet and that is not
        known to be silence: how far the captions are behind the speech. Any thread."""
        handled = max(self._transcribed_until, self._silent_until)
        return max(0.0, self.stream_duration_s - handled / SAMPLE_RATE)

    @property
    def mode(self) -> str:
        """The load policy's current mode (`Mode`)."""
        return self._mode

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
            return self._update(finals, self.partial)

    def finish(self) -> StreamUpdate:
        """End of stream: commit and return everything still pending; the partial becomes empty."""
        with self._step_lock:
            self._drain_incoming()
            finals: list[FinalCaption] = []
            speech = self._speech_regions()
            hypothesis = None
            cut = self._buffer_end
            if speech and self._has_untranscribed_speech(speech[-1][1]):
                cut = min(self._buffer_end, speech[-1][1] + self._samples(self.config.speech_pad_s))
                hypothesis = self._transcribe(until=cut, final=True)
            finals += self._commit_everything(hypothesis, heard_until=cut)
            self._drop_audio_before(self._buffer_end)
            self._silent_until = self._buffer_end
            return self._update(finals, "")

    def _update(self, finals: list[FinalCaption], partial: str) -> StreamUpdate:
        lag = self.lag_s
        self.stats.lag_s = lag
        self.stats.max_lag_s = max(self.stats.max_lag_s, lag)
        self.stats.mode = self._mode
        return StreamUpdate(finals=finals, partial=partial, lag_s=lag, mode=self._mode)

    @property
    def partial(self) -> str:
        words, _ = without_repetitions(
            self._pending + self._agreement.unconfirmed, memory=self._emitted_tail
        )
        text = join_words(words)
        return "" if is_hallucination(text) else text

    # -- the load policy -----------------------------------------------------------------------

    def _choose_mode(self) -> str:
        config = self.config
        lag = self.lag_s
        if lag > config.catch_up_lag_s:
            return Mode.CATCH_UP
        slow = self._greedy_cost is not None and self._greedy_cost > config.behind_decode_s
        if lag > config.behind_lag_s or slow:
            return Mode.BEHIND
        if self._mode in (Mode.BEHIND, Mode.CATCH_UP) and lag > config.accurate_max_lag_s:
            return Mode.BEHIND  # recover only once well within the threshold
        if config.accurate_beam_size > 1 and lag <= config.accurate_max_lag_s:
            expected = self._accurate_cost
            if expected is None and self._greedy_cost is not None:
                expected = 2.0 * self._greedy_cost  # until measured: beam 5 about doubles it
            if expected is not None and expected <= config.accurate_busy_ratio * config.min_chunk_s:
                return Mode.ACCURATE
        return Mode.NORMAL

    def _step_samples(self) -> int:
        """New audio that triggers a re-decode in the middle of speech."""
        config = self.config
        if self._mode == Mode.CATCH_UP:
            return self._samples(config.catch_up_buffer_s)
        if self._mode == Mode.BEHIND:
            cost = self._greedy_cost or 0.0
            step = min(
                max(config.min_chunk_s, config.behind_step_factor * cost), config.max_behind_step_s
            )
            return self._samples(step)
        return self._samples(config.min_chunk_s)

    def _max_buffer_samples(self) -> int:
        if self._mode in (Mode.BEHIND, Mode.CATCH_UP):
            return self._samples(min(self.config.max_buffer_s, self.config.behind_max_buffer_s))
        return self._samples(self.config.max_buffer_s)

    # -- the policy ----------------------------------------------------------------------------

    def _step(self) -> list[FinalCaption]:
        config = self.config
        self._vad_checked_until = self._buffer_end
        self._mode = self._choose_mode()
        speech = self._speech_regions()
        finals: list[FinalCaption] = []

        if not speech:
            # Silence: whatever was heard before it is complete; keep only a little pre-roll.
            finals += self._commit_everything(hypothesis=None, heard_until=self._buffer_end)
            self._drop_audio_before(self._buffer_end - self._samples(config.pre_roll_s))
            self._silent_until = self._buffer_end
            return finals

        if not self._pending and not self._agreement.unconfirmed:
            self._drop_audio_before(speech[0][0] - self._samples(config.pre_roll_s))
            self._silent_until = max(self._silent_until, self._buffer_start)

        speech_end = speech[-1][1]
        ended = self._buffer_end - speech_end >= self._samples(config.end_of_speech_s)
        cut = min(self._buffer_end, speech_end + self._samples(config.speech_pad_s))
        limit = self._buffer_start + self._max_buffer_samples()
        if (
            self._mode in (Mode.BEHIND, Mode.CATCH_UP)
            and (cut if ended else self._buffer_end) > limit
        ):
            return finals + self._decode_oldest(until=limit)

        if ended:
            hypothesis = None
            if self._has_untranscribed_speech(speech_end):
                hypothesis = self._transcribe(until=cut, final=True)
            finals += self._commit_everything(hypothesis, heard_until=cut)
            self._drop_audio_before(cut)
            self._silent_until = self._buffer_end  # what follows the speech end is silence
            return finals

        if self._buffer_end - self._transcribed_until >= self._step_samples():
            hypothesis = self._transcribe(until=self._buffer_end, final=False)
            long_enough = len(self._audio) >= self._samples(config.min_agreement_audio_s)
            stable_until = None
            if self._mode in (Mode.BEHIND, Mode.CATCH_UP):
                # No time to wait for a second hypothesis: words well inside the audio stand.
                stable_until = self._buffer_end / SAMPLE_RATE - config.behind_stable_margin_s
            self._pending += self._agreement.insert(
                hypothesis, may_commit=long_enough, commit_before=stable_until
            )
            if self._mode == Mode.CATCH_UP:
                finals += self._finalize(self._take_pending())
            else:
                finals += self._emit_complete_captions()
            if len(self._audio) > self._max_buffer_samples():
                finals += self._commit_everything(hypothesis=None, heard_until=self._buffer_end)
                self._forget_wordless_audio()
        return finals

    def _decode_oldest(self, *, until: int) -> list[FinalCaption]:
        """Behind with more audio than one decode should take: decode only the oldest
        `until - buffer start` samples and commit their words (all but the last
        `behind_stable_margin_s`); the rest of the backlog waits for the next steps. Each
        stretch is decoded once and nothing is skipped."""
        start = self._buffer_start
        hypothesis = self._transcribe(until=until, final=False)
        stable_until = until / SAMPLE_RATE - self.config.behind_stable_margin_s
        self._pending += self._agreement.insert(
            hypothesis, may_commit=True, commit_before=stable_until
        )
        finals = self._finalize(self._take_pending())
        self._count_drops_until(stable_until)
        if self._buffer_start == start:  # no words in it: Whisper made nothing of that stretch
            self._drop_audio_before(until - self._samples(self.config.min_chunk_s))
        return finals

    def _forget_wordless_audio(self) -> None:
        """Speech Whisper made no words of (music, noise) is not kept forever: what the last
        decode covered is dropped but its last `min_chunk_s`. Audio not yet decoded never is."""
        decoded_until = min(self._buffer_end, self._transcribed_until)
        if decoded_until - self._buffer_start > self._max_buffer_samples():
            self._drop_audio_before(decoded_until - self._samples(self.config.min_chunk_s))

    def _take_pending(self) -> list[TimedWord]:
        words, self._pending = self._pending, []
        return words

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

    def _transcribe(self, *, until: int, final: bool) -> list[TimedWord]:
        """Decode the buffer up to stream sample `until`: beam search in the accurate mode (for
        every decode: agreement needs comparable hypotheses), greedy otherwise."""
        audio = self._audio[: until - self._buffer_start]
        accurate = self._mode == Mode.ACCURATE
        beam_size = self.config.accurate_beam_size if accurate else 1
        fast = self._mode in (Mode.BEHIND, Mode.CATCH_UP)  # a cheaper decode, sooner captions
        started = self._clock()
        segments = self.engine.transcribe(
            audio, language=self.language, prompt=self._prompt(), beam_size=beam_size, fast=fast
        )
        if self._echoes_prompt(segments):
            # Whisper copied its prompt (the last captions, the vocabulary) rather than hearing
            # the audio: listen again without one. (A vocabulary echo left after that is dropped
            # by `clean_segments`; a sentence said again is kept: lecturers repeat themselves.)
            segments = self.engine.transcribe(
                audio, language=self.language, prompt=None, beam_size=beam_size, fast=fast
            )
        elapsed = self._clock() - started
        new_audio_s = max(0, until - self._transcribed_until) / SAMPLE_RATE
        self._record_cost(elapsed, new_audio_s, accurate=accurate)
        self._transcribed_until = until
        cleaned = clean_segments(
            segments,
            offset_s=self._buffer_start / SAMPLE_RATE,
            prompts=(self._vocabulary,),
        )
        self._dropped = cleaned.dropped
        del final  # every decode is cleaned the same way; kept for readability at call sites
        return cleaned.kept

    def _echoes_prompt(self, segments: Sequence[TranscribedSegment]) -> bool:
        text = " ".join(segment.text for segment in segments)
        return any(
            is_prompt_echo(text, prompt)
            for prompt in (self._prompt_tail, self._vocabulary)
            if prompt
        )

    def _record_cost(self, elapsed: float, new_audio_s: float, *, accurate: bool) -> None:
        stats = self.stats
        stats.audio_s += new_audio_s
        stats.inference_s += elapsed
        stats.last_inference_s = elapsed
        stats.transcriptions += 1
        stats.decodes_by_mode[self._mode] += 1
        weight = self._COST_SMOOTHING
        if accurate:
            previous = self._accurate_cost
            self._accurate_cost = (
                elapsed if previous is None else (1 - weight) * previous + weight * elapsed
            )
            self._greedy_since_accurate = 0
        else:
            previous = self._greedy_cost
            self._greedy_cost = (
                elapsed if previous is None else (1 - weight) * previous + weight * elapsed
            )
            self._greedy_since_accurate += 1
            if self._greedy_since_accurate >= self._ACCURATE_RETRY_DECODES:
                self._accurate_cost = None  # the machine may be quieter now: measure again
        if self._meter is not None:
            self._meter.record(seconds=elapsed, audio_s=new_audio_s)

    def _count_drops_until(self, seconds: float) -> None:
        """Count what the filters dropped from the latest hypothesis before `seconds` (stream
        time): that audio is now final, so its dropped words will never be shown."""
        reasons: Counter[str] = Counter(
            reason
            for word, reason in self._dropped
            if self._drops_counted_until <= word.start < seconds
        )
        self.stats.count_dropped(reasons)
        self._drops_counted_until = max(self._drops_counted_until, seconds)

    def _commit_everything(
        self, hypothesis: list[TimedWord] | None, *, heard_until: int
    ) -> list[FinalCaption]:
        words = self._take_pending() + self._agreement.commit_all(hypothesis)
        finals = self._finalize(words)
        self._count_drops_until(heard_until / SAMPLE_RATE)
        return finals

    def _emit_complete_captions(self) -> list[FinalCaption]:
        """Turn committed words up to the last sentence end into captions."""
        last_end = max(
            (i for i, word in enumerate(self._pending) if ends_with(word, SENTENCE_END_CHARS)),
            default=-1,
        )
        if last_end < 0 and self._pending:
            span = self._pending[-1].end - self._pending[0].start
            if span >= self.config.max_final_s:
                clause_ends = [
                    i for i, word in enumerate(self._pending) if ends_with(word, CLAUSE_END_CHARS)
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
            if ends_with(word, SENTENCE_END_CHARS):
                captions += self._make_caption(sentence)
                sentence = []
        captions += self._make_caption(sentence)
        self._count_drops_until(words[-1].end)
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
        kept, looped = without_repetitions(words, memory=self._emitted_tail)
        self.stats.count_dropped(Counter({DROP_REPETITION: len(looped)}))
        text = join_words(kept)
        if not text:
            return []
        if is_hallucination(text):
            self.stats.count_dropped(Counter({DROP_HALLUCINATION: len(kept)}))
            return []
        if self._vocabulary and is_prompt_echo(text, self._vocabulary):
            # Each hypothesis was checked, but a caption's words may come from several: pieces
            # too short to call an echo can add up to the vocabulary line.
            self.stats.count_dropped(Counter({DROP_PROMPT_ECHO: len(kept)}))
            return []
        start_ms = max(round(kept[0].start * 1000), self._last_end_ms)
        end_ms = max(round(kept[-1].end * 1000), start_ms)
        self._last_end_ms = end_ms
        self._emitted_tail = (self._emitted_tail + [word.text for word in kept])[
            -self._EMITTED_TAIL_WORDS :
        ]
        self._extend_prompt(text, kept)
        return [FinalCaption(start_ms=start_ms, end_ms=end_ms, text=text)]

    def _extend_prompt(self, text: str, words: Sequence[TimedWord]) -> None:
        """Feed a new caption back as the prompt, unless Whisper was unsure of it: then the
        prompt starts afresh (openai-whisper resets its prompt after a doubtful window too).
        Conditioned on text it guessed, Whisper copies that text into the next captions instead
        of hearing the audio (hard Korean audio: one guessed phrase came out five times)."""
        confidence = sum(word.probability for word in words) / len(words)
        if confidence < self.config.prompt_min_probability:
            self._prompt_tail = ""
            return
        tail = f"{self._prompt_tail} {text}".strip()
        if len(tail) > self.config.prompt_chars:
            tail = tail[-self.config.prompt_chars :]
            tail = tail.split(" ", 1)[1] if " " in tail else tail  # start on a word
        self._prompt_tail = tail
