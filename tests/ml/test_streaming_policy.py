"""The streaming policy with a scripted engine: LocalAgreement, VAD use, trimming, filters.

The fake engine plays a Whisper that hears a scripted "truth": each call returns the scripted
words that lie inside the audio it was given, timed relative to that audio, like the real one.
The fake VAD calls anything louder than 0.01 speech. Real-model tests are in test_streaming_real.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from hearus_testkit.scripted import Script, ScriptedEngine, energy_detector, words
from ml.asr import SAMPLE_RATE, FloatAudio, TranscribedSegment, TranscribedWord
from ml.caption_filters import has_repetition_loop
from ml.streaming import (
    FinalCaption,
    LocalAgreement,
    StreamingConfig,
    StreamingTranscriber,
    TimedWord,
)

CHUNK_S = 0.1


def make_transcriber(
    script: Script | Callable[[int], Script], **config: float
) -> tuple[StreamingTranscriber, ScriptedEngine]:
    engine = ScriptedEngine(script)
    transcriber = StreamingTranscriber(
        engine,
        language="en",
        vocabulary=["gradient descent", "regression"],
        config=StreamingConfig(**config),  # type: ignore[arg-type]
        speech_detector=energy_detector,
    )
    engine.transcriber = transcriber
    return transcriber, engine


def tone(seconds: float) -> FloatAudio:
    return np.full(round(seconds * SAMPLE_RATE), 0.1, dtype=np.float32)


def quiet(seconds: float) -> FloatAudio:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


@dataclass
class Run:
    finals: list[tuple[float, FinalCaption]]  # (stream time when it came out, caption)
    partials: list[str]

    @property
    def texts(self) -> list[str]:
        return [caption.text for _, caption in self.finals]


def feed(transcriber: StreamingTranscriber, audio: FloatAudio, *, finish: bool = True) -> Run:
    run = Run([], [])
    chunk = round(CHUNK_S * SAMPLE_RATE)
    for index in range(0, len(audio), chunk):
        transcriber.insert_audio(audio[index : index + chunk])
        update = transcriber.process()
        now = (index + chunk) / SAMPLE_RATE
        run.finals += [(now, caption) for caption in update.finals]
        run.partials.append(update.partial)
    if finish:
        update = transcriber.finish()
        run.finals += [(len(audio) / SAMPLE_RATE, caption) for caption in update.finals]
        assert update.partial == ""
    return run


# -- LocalAgreement on its own ---------------------------------------------------------------


def timed(text: str, start: float = 0.0) -> list[TimedWord]:
    return [TimedWord(s, e, t) for s, e, t in words(text, start=start)]


def texts(committed: Sequence[TimedWord]) -> str:
    return "".join(word.text for word in committed).strip()


def test_agreement_commits_the_longest_common_prefix() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(timed("the next short")) == []  # nothing to agree with yet
    assert texts(agreement.insert(timed("the next shot today"))) == "the next"
    assert texts(agreement.unconfirmed) == "shot today"
    assert texts(agreement.insert(timed("the next shot today covers"))) == "shot today"


def test_agreement_ignores_case_and_punctuation_and_keeps_the_newer_spelling() -> None:
    agreement = LocalAgreement()
    agreement.insert(timed("we will start"))
    assert texts(agreement.insert(timed("We will start. With"))) == "We will start."


def test_hypotheses_that_may_not_commit_do_not_count_as_evidence() -> None:
    agreement = LocalAgreement()
    agreement.insert(timed("the next short"), may_commit=False)
    assert agreement.insert(timed("the next short today")) == []
    assert texts(agreement.unconfirmed) == "the next short today"
    assert texts(agreement.insert(timed("the lecture today"))) == "the"


def test_words_already_committed_are_not_committed_again() -> None:
    agreement = LocalAgreement()
    agreement.insert(timed("a b c"))
    assert texts(agreement.insert(timed("a b c d"))) == "a b c"  # "c" ends at 1.1 s
    # Whisper hears "b c" again with shifted times (their audio is still in the buffer):
    # by time, "b" is skipped; by content, the repeated "c" is skipped too.
    again = [TimedWord(0.95, 1.15, " c"), *timed("d e", start=1.2)]
    assert texts(agreement.insert(again)) == "d"
    assert texts(agreement.commit_all()) == "e"
    assert agreement.unconfirmed == []


# -- the streaming policy --------------------------------------------------------------------

TRUTH: Script = [
    words("Hello world this is a test.", start=0.0),
    words("Next we look at data.", start=3.0),
]


def test_sentence_becomes_final_once_agreed_and_the_rest_stays_partial() -> None:
    transcriber, _ = make_transcriber(TRUTH)
    run = feed(transcriber, np.concatenate([tone(5.2), quiet(1.5)]), finish=False)

    assert run.texts == ["Hello world this is a test.", "Next we look at data."]
    (first_at, first), (second_at, second) = run.finals
    assert (first.start_ms, first.end_ms) == (0, 2300)
    assert (second.start_ms, second.end_ms) == (3000, 4900)
    # The first sentence is final as soon as two hypotheses agree on it (at 4 s); the second,
    # never agreed on, as soon as the speaker pauses (0.6 s of quiet after 5.2 s).
    assert first_at == pytest.approx(4.0)
    assert 5.8 <= second_at <= 6.1
    assert "Hello world this is a" in run.partials
    assert any(partial.startswith("Next we") for partial in run.partials)
    assert run.partials[-1] == ""
    assert transcriber.finish().finals == []


def test_after_a_caption_the_buffer_is_cut_in_the_pause_not_inside_a_word() -> None:
    # Whisper puts the last word's end 0.1 s early (1.9 s; the sound goes on to 2.0 s). A cut
    # there would leave the end of "done" in front of "Next" for the next hypothesis to misread.
    script = [
        words("Hello world this is done.", start=0.0),
        words("Next we look at data.", start=2.3),
    ]
    transcriber, engine = make_transcriber(script)
    audio = np.concatenate([tone(2.0), quiet(0.3), tone(2.0), quiet(1.5)])  # pause < end of speech
    run = feed(transcriber, audio)

    assert run.texts == ["Hello world this is done.", "Next we look at data."]
    later_offsets = {call.offset_s for call in engine.calls if call.offset_s > 0}
    assert later_offsets and all(2.0 <= offset <= 2.3 for offset in later_offsets)


def test_short_buffers_never_commit() -> None:
    # Whisper guesses the first second badly, and the same way twice: that must not commit.
    transcriber, _ = make_transcriber(TRUTH)
    run = feed(transcriber, tone(2.9), finish=False)
    assert run.finals == []
    assert run.partials[-1] == "Hello world this is a"


def test_language_is_forced_and_the_prompt_is_vocabulary_plus_final_text() -> None:
    transcriber, engine = make_transcriber(TRUTH)
    feed(transcriber, np.concatenate([tone(5.2), quiet(1.5)]))
    assert {call.language for call in engine.calls} == {"en"}
    assert engine.calls[0].prompt == "gradient descent, regression"
    assert engine.calls[-1].prompt == "gradient descent, regression Hello world this is a test."


def test_a_caption_whisper_was_unsure_of_is_shown_but_resets_the_prompt() -> None:
    # Conditioned on a guess, Whisper copies the guess into what it hears next (hard Korean
    # audio: one guessed phrase came out five times). The guess is still shown.
    script = [
        words("Hello world this is a test.", start=0.0),
        words("Zorg blat mumpf.", start=3.0),
        words("Next we look at data.", start=5.0),
    ]
    guessed = {"Zorg", "blat", "mumpf"}
    engine = ScriptedEngine(
        script, probability=lambda word: 0.2 if word.strip(" .") in guessed else 0.9
    )
    transcriber = StreamingTranscriber(
        engine,
        language="en",
        vocabulary=["gradient descent", "regression"],
        speech_detector=energy_detector,
    )
    engine.transcriber = transcriber
    audio = np.concatenate([tone(2.4), quiet(0.6), tone(1.4), quiet(0.6), tone(2.4), quiet(1.5)])
    run = feed(transcriber, audio)

    assert run.texts == ["Hello world this is a test.", "Zorg blat mumpf.", "Next we look at data."]
    prompts = [call.prompt for call in engine.calls]
    assert "gradient descent, regression Hello world this is a test." in prompts
    assert all("Zorg" not in (prompt or "") for prompt in prompts)
    # After the guess, the prompt starts afresh: the sure caption before it is gone too.
    assert engine.calls[-1].prompt == "gradient descent, regression"


def test_final_times_are_stream_times_and_silence_is_never_transcribed() -> None:
    script = [words("Good morning everyone.", start=3.0)]
    transcriber, engine = make_transcriber(script)
    run = feed(transcriber, np.concatenate([quiet(3.0), tone(1.2), quiet(1.0)]))
    assert run.texts == ["Good morning everyone."]
    caption = run.finals[0][1]
    assert (caption.start_ms, caption.end_ms) == (3000, 4100)
    # Only the pre-roll before the speech reached the engine, never the 3 s of silence.
    assert min(call.offset_s for call in engine.calls) >= 3.0 - 0.3 - 1e-9


def test_silence_alone_never_calls_the_engine() -> None:
    transcriber, engine = make_transcriber(TRUTH)
    run = feed(transcriber, quiet(5.0))
    assert run.finals == [] and set(run.partials) == {""}
    assert engine.calls == []
    assert transcriber.buffer_start_s >= 4.5  # silence is dropped, not accumulated


def test_finish_commits_words_that_were_never_agreed_on() -> None:
    transcriber, _ = make_transcriber([words("one two three", start=0.0)])
    run = feed(transcriber, tone(1.3))  # too short to ever commit by agreement
    assert run.partials[-1] == "one two"  # heard at 1 s; "three" ends at 1.1 s
    assert run.texts == ["one two three"]


def test_full_buffer_is_force_committed_so_latency_stays_bounded() -> None:
    # Two hypotheses that never agree: only the buffer cap can turn them into captions.
    def flip_flop(call: int) -> Script:
        variant = "alpha" if call % 2 else "omega"
        return [words(" ".join(f"{variant}{i}" for i in range(60)), start=0.0)]

    transcriber, _ = make_transcriber(flip_flop, max_buffer_s=6.0)
    run = feed(transcriber, tone(15.0), finish=False)
    assert run.finals, "nothing was committed before the end of the stream"
    first_at, _ = run.finals[0]
    assert first_at <= 6.0 + 1.0 + 0.2
    assert transcriber.buffer_start_s > 0.0
    ends = [caption.end_ms for _, caption in run.finals]
    starts = [caption.start_ms for _, caption in run.finals]
    assert all(end <= next_start for end, next_start in zip(ends, starts[1:], strict=False))


def test_long_sentence_without_punctuation_is_cut_at_a_clause_end() -> None:
    text = "so the model first reads the input, then it computes a score for every class " * 3
    transcriber, _ = make_transcriber([words(text, start=0.0)], max_final_s=4.0)
    run = feed(transcriber, tone(20.0), finish=False)
    assert run.finals
    first = run.finals[0][1]
    assert first.text.endswith("input,")
    assert first.end_ms - first.start_ms <= 8000


def test_hallucinated_segment_never_reaches_a_caption_or_the_partial() -> None:
    script = [
        words("Please ask questions.", start=0.0),
        words("시청해 주셔서 감사합니다.", start=1.4),
    ]
    transcriber, _ = make_transcriber(script)
    run = feed(transcriber, np.concatenate([tone(2.6), quiet(1.0)]))
    assert run.texts == ["Please ask questions."]
    assert not any("감사" in partial for partial in run.partials)


def test_repetition_loop_never_reaches_a_caption_or_the_partial() -> None:
    loop = words("요청한다 " * 12 + "끝났다.", start=0.0, step=0.25, length=0.2)
    transcriber, _ = make_transcriber([loop])
    run = feed(transcriber, np.concatenate([tone(3.4), quiet(1.0)]))
    assert run.texts == ["요청한다 끝났다."]
    assert not any(has_repetition_loop(partial) for partial in run.partials)


def test_loop_spread_over_several_captions_is_cut_too() -> None:
    # Each "sentence" is its own caption, so only the guard across captions can see the loop.
    script = [words("요청한다.", start=float(second)) for second in range(0, 12, 2)]
    transcriber, _ = make_transcriber(script, end_of_speech_s=0.6)
    audio = np.concatenate([np.concatenate([tone(0.4), quiet(1.6)]) for _ in range(6)])
    run = feed(transcriber, audio)
    assert run.texts == ["요청한다.", "요청한다."]
    assert not has_repetition_loop(" ".join(run.texts))


def test_audio_may_be_inserted_from_another_thread_while_processing() -> None:
    import threading

    transcriber, _ = make_transcriber(TRUTH)
    audio = np.concatenate([tone(5.2), quiet(1.5)])
    chunk = round(CHUNK_S * SAMPLE_RATE)

    def produce() -> None:
        for index in range(0, len(audio), chunk):
            transcriber.insert_audio(audio[index : index + chunk])

    producer = threading.Thread(target=produce)
    producer.start()
    finals: list[FinalCaption] = []
    while producer.is_alive():
        finals += transcriber.process().finals
    producer.join()
    finals += transcriber.process().finals + transcriber.finish().finals
    assert [caption.text for caption in finals] == [
        "Hello world this is a test.",
        "Next we look at data.",
    ]
    assert transcriber.stream_duration_s == pytest.approx(6.7)


def test_a_vocabulary_echo_assembled_from_pieces_is_not_a_caption() -> None:
    # Seen on hard Korean audio: "선형 회귀, 경사 하강법, 학습률안, 상임위원회의, 경사" reached a
    # caption in pieces, none of which alone was long enough to call an echo.
    script = [
        words("gradient descent,", start=0.0),
        words("regression.", start=0.8),
        words("Next we look at data.", start=3.0),
    ]
    transcriber, _ = make_transcriber(script)
    run = feed(transcriber, np.concatenate([tone(1.2), quiet(1.8), tone(2.0), quiet(1.5)]))

    assert run.texts == ["Next we look at data."]
    assert transcriber.stats.dropped_by_reason["prompt_echo"] == 3


class PromptCopyingEngine(ScriptedEngine):
    """Whisper base on some CPUs: once a caption is in the prompt, it "hears" that caption again
    over whatever follows. Without a prompt it hears the audio."""

    ECHO = "Hello world this is a test."

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        heard = super().transcribe(
            audio, language=language, prompt=prompt, beam_size=beam_size, fast=fast
        )
        if prompt is None or self.ECHO not in prompt:
            return heard
        echo = tuple(
            TranscribedWord(i * 0.2, i * 0.2 + 0.15, f" {token}", 0.9)
            for i, token in enumerate(self.ECHO.split())
        )
        return [TranscribedSegment(0.0, echo[-1].end, f" {self.ECHO}", echo, 0.1, -0.2)]


def test_a_caption_copied_from_the_prompt_is_heard_again_without_one() -> None:
    script = [words("Hello world this is a test.", start=0.0), words("Second part now.", start=4.0)]
    engine = PromptCopyingEngine(script)
    transcriber = StreamingTranscriber(
        engine, language="en", vocabulary=["regression"], speech_detector=energy_detector
    )
    engine.transcriber = transcriber
    run = feed(transcriber, np.concatenate([tone(2.4), quiet(1.6), tone(1.3), quiet(1.5)]))
    assert run.texts == ["Hello world this is a test.", "Second part now."]
    assert any(call.prompt is None for call in engine.calls)
