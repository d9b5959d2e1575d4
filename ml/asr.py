"""Speech recognition engine: faster-whisper (CTranslate2), one model per process.

Decoding is tuned for live captions, not for best offline accuracy:
- greedy (beam 1) at temperature 0 with no temperature fallback: beam search with fallback loops
  on synthetic speech and costs several decodes per window;
- the course language is forced: auto-detection calls espeak's Korean "Thai";
- no conditioning on previous windows (the streaming layer passes its own prompt);
- word timestamps on: LocalAgreement commits words by time;
- faster-whisper's no-speech skip is off by default: with its stock threshold it drops synthetic
  Korean whole. Silence is kept out by Silero VAD before this engine is called, and by the
  hallucination filter after it.
- `no_repeat_ngram_size` and a token budget proportional to the audio length stop a repetition
  loop early; the loop guard in `ml.caption_filters` removes what is left of it.

`WhisperEngine.transcribe` is synchronous and CPU-bound (0.4-0.8 s a call for Whisper base on two
cores, most of it the encoder on a padded 30 s window; `DecodingOptions.min_encoder_window_s` can
shorten that window for live calls). Callers on an event loop must not
call it directly: use `run_in_asr_thread`, which runs the work on this process's single ASR
thread, so concurrent lectures queue instead of oversubscribing the CPU.
"""

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

import ctranslate2  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel  # type: ignore[import-untyped]

SAMPLE_RATE = 16_000
_FRAMES_PER_SECOND = 100  # Whisper's mel hop is 10 ms
_WHISPER_WINDOW_FRAMES = 3000  # the 30 s every encode is padded to

FloatAudio = npt.NDArray[np.float32]

# Whisper's decoder context: prompt and generated tokens share 448 positions, and faster-whisper
# keeps at most the last 223 prompt tokens behind a start-of-previous token.
_WHISPER_MAX_TOKENS = 448
_WHISPER_MAX_PROMPT_TOKENS = _WHISPER_MAX_TOKENS // 2 - 1
_SOT_SEQUENCE_TOKENS = 4  # <|startofprev|> + <|startoftranscript|><|lang|><|transcribe|>


@dataclass(frozen=True)
class TranscribedWord:
    start: float  # seconds from the start of the audio passed in
    end: float
    text: str  # as Whisper spells it, usually with its leading space
    probability: float


@dataclass(frozen=True)
class TranscribedSegment:
    start: float
    end: float
    text: str
    words: tuple[TranscribedWord, ...]
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float = 1.0  # zlib ratio of the text: above 2.4 it repeats itself


def collect_segments(segments: Iterable[Any]) -> list[TranscribedSegment]:
    """faster-whisper's segments (a generator: decoding happens while iterating) as ours."""
    return [
        TranscribedSegment(
            start=float(segment.start),
            end=float(segment.end),
            text=segment.text,
            words=tuple(
                TranscribedWord(
                    start=float(word.start),
                    end=float(word.end),
                    text=word.word,
                    probability=float(word.probability),
                )
                for word in segment.words or ()
            ),
            no_speech_prob=float(segment.no_speech_prob),
            avg_logprob=float(segment.avg_logprob),
            compression_ratio=float(segment.compression_ratio),
        )
        for segment in segments
    ]


class SpeechRecognizer(Protocol):
    """What the streaming layer needs from an engine; tests script a fake one.

    `beam_size` above 1 asks for beam search (more accurate, slower); `fast` asks for a cheaper
    decode at some cost in accuracy (the caller is behind the speech). An engine may ignore both.
    """

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]: ...


@dataclass(frozen=True)
class DecodingOptions:
    # None: never skip a window as "no speech" (the stock 0.6 drops synthetic Korean).
    no_speech_threshold: float | None = None
    # Blocks a token 8-gram from recurring inside one window: cuts loops short; 8 tokens is
    # longer than the short phrases a speaker legitimately repeats.
    no_repeat_ngram_size: int = 8
    # Generated tokens allowed per second of audio (+ a constant for timestamps and short
    # buffers): read speech needs 3.3-5.9 (hearus_testkit/read_speech.py: English at 150-200 words a
    # minute, Korean lectures), a fast talker about 8; a loop is cut off at about twice what
    # speech needs instead of running to 448 tokens, so hard audio costs at most about twice
    # what easy audio of the same length does (docs/benchmarks.md, "Recognition quality").
    max_tokens_per_second: float = 12.0
    min_token_budget: int = 24
    # Beam width for the accurate decodes the streaming layer asks for when it has CPU to spare.
    accurate_beam_size: int = 5
    # The encoder window of a live transcription (`WhisperEngine.transcribe`): the audio plus
    # `encoder_padding_s` of Whisper's silence padding, at least `min_encoder_window_s`; 30 is
    # Whisper's stock window. A CPU encodes 20 s in ~0.4x the time of 30 s and 10 s in ~0.1x, but
    # Whisper was trained on 30 s windows: shorter ones cost accuracy (docs/benchmarks.md,
    # "Encoder window"), so the stock window is the default.
    min_encoder_window_s: float = 30.0
    encoder_padding_s: float = 2.0
    # ... and of a `fast` decode (a live lecture behind its speech, whose buffer is then at most
    # 8 s): ~0.5x the stock window's cost; English WER unchanged at 15 s, broken at 10 s
    # (docs/benchmarks.md, "Encoder window"). Only used when the alternative is captions that
    # fall further behind, and only in the languages where it was measured not to cost
    # accuracy. Korean is not one: under load its test speech scatters too much (CER 74-97 %
    # with or without) to show the shorter window harmless, and short windows are reported to
    # hurt Korean (CTranslate2 issue #2100).
    fast_encoder_window_s: float = 15.0
    fast_encoder_window_languages: tuple[str, ...] = ("en",)

    def encoder_frames(
        self, duration_s: float, *, fast: bool = False, language: str = ""
    ) -> int | None:
        """Mel frames the encoder sees for `duration_s` of audio; None for the whole window."""
        window = self.min_encoder_window_s
        if fast and language in self.fast_encoder_window_languages:
            window = min(window, self.fast_encoder_window_s)
        seconds = max(duration_s + self.encoder_padding_s, window)
        frames = int(np.ceil(seconds * _FRAMES_PER_SECOND / 2)) * 2  # the encoder halves it
        return None if frames >= _WHISPER_WINDOW_FRAMES else frames


def default_cpu_threads() -> int:
    """Threads for CTranslate2: the CPUs this process may use, at most 8."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


class WindowedWhisperModel(WhisperModel):
    """faster-whisper's model whose encoder can be given less than Whisper's 30 s window.

    faster-whisper pads every window to 3000 mel frames; CTranslate2 accepts fewer. Inside
    `encoder_window(frames)`, encodes on the calling thread keep only the first `frames` frames:
    the audio and some of its padding. Other threads (a whole-file transcription beside the live
    one) are unaffected.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._window = threading.local()

    @contextmanager
    def encoder_window(self, frames: int | None) -> Iterator[None]:
        previous = getattr(self._window, "frames", None)
        self._window.frames = frames
        try:
            yield
        finally:
            self._window.frames = previous

    def encode(self, features: npt.NDArray[np.float32]) -> ctranslate2.StorageView:
        frames = getattr(self._window, "frames", None)
        if frames is not None and features.shape[-1] > frames:
            features = np.ascontiguousarray(features[..., :frames])
        return super().encode(features)


_models: dict[tuple[str, str, str, int], WindowedWhisperModel] = {}
_models_lock = threading.Lock()


def load_whisper_model(
    model_path: Path,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int | None = None,
) -> WindowedWhisperModel:
    """The process-wide model for these settings, loaded on first use.

    The lock makes concurrent first calls load it once. `model_path` must be a CTranslate2
    Whisper folder (see `ml.whisper_model.resolve_whisper_model`); nothing is downloaded.
    """
    folder = Path(model_path).absolute()
    if not (folder / "model.bin").is_file():
        raise FileNotFoundError(f"{folder} is not a CTranslate2 Whisper folder")
    threads = cpu_threads if cpu_threads is not None else default_cpu_threads()
    key = (str(folder.resolve()), device, compute_type, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = WindowedWhisperModel(
                str(folder),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )
            _models[key] = model
        return model


class WhisperEngine:
    """`SpeechRecognizer` over a faster-whisper model; thread-safe, shareable across lectures."""

    def __init__(self, model: WhisperModel, options: DecodingOptions | None = None) -> None:
        self.model = model
        self.options = options if options is not None else DecodingOptions()

    @classmethod
    def load(
        cls,
        model_path: Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        options: DecodingOptions | None = None,
    ) -> "WhisperEngine":
        model = load_whisper_model(
            model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )
        return cls(model, options)

    def token_budget(self, duration_s: float, prompt: str | None = None) -> int:
        """New tokens one decode of `duration_s` seconds may generate (see `DecodingOptions`)."""
        prompt_tokens = 0
        if prompt:
            encoded = self.model.hf_tokenizer.encode(" " + prompt.strip(), add_special_tokens=False)
            prompt_tokens = min(len(encoded.ids), _WHISPER_MAX_PROMPT_TOKENS)
        room = _WHISPER_MAX_TOKENS - prompt_tokens - _SOT_SEQUENCE_TOKENS - 1
        wanted = (
            int(duration_s * self.options.max_tokens_per_second) + self.options.min_token_budget
        )
        return max(1, min(room, wanted))

    def greedy_options(self, language: str) -> dict[str, Any]:
        """faster-whisper settings shared by live and whole-file transcription: greedy, one
        temperature (fallback loops on unclear speech), the language forced, word times on."""
        return {
            "language": language,
            "task": "transcribe",
            "beam_size": 1,
            "best_of": 1,
            "temperature": 0.0,
            "compression_ratio_threshold": None,
            "log_prob_threshold": None,
            "no_speech_threshold": self.options.no_speech_threshold,
            "condition_on_previous_text": False,
            "word_timestamps": True,
            "no_repeat_ngram_size": self.options.no_repeat_ngram_size,
        }

    def beam_options(self, language: str, beam_size: int) -> dict[str, Any]:
        """`greedy_options` with beam search of `beam_size` (still one temperature)."""
        return {**self.greedy_options(language), "beam_size": beam_size, "best_of": 1}

    def transcribe(
        self,
        audio: FloatAudio,
        *,
        language: str,
        prompt: str | None = None,
        beam_size: int = 1,
        fast: bool = False,
    ) -> list[TranscribedSegment]:
        """Transcribe 16 kHz mono float32 audio (at most 30 s) in `language`. Blocks the caller.

        The decode may generate at most `token_budget(duration)` tokens; `beam_size` > 1 runs
        beam search instead of greedy decoding; `fast` encodes a shorter window
        (`DecodingOptions.fast_encoder_window_s`) in the languages where that was measured."""
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError("audio must be one channel (a 1-D array)")
        if samples.size == 0:
            return []
        duration_s = samples.size / SAMPLE_RATE
        frames = self.options.encoder_frames(duration_s, fast=fast, language=language)
        with self._encoder_window(frames):
            options = (
                self.beam_options(language, beam_size)
                if beam_size > 1
                else self.greedy_options(language)
            )
            segments, _info = self.model.transcribe(
                samples,
                **options,
                initial_prompt=prompt or None,
                vad_filter=False,  # the streaming layer runs VAD itself, on the whole stream
                max_new_tokens=self.token_budget(duration_s, prompt),
            )
            return collect_segments(segments)

    def _encoder_window(self, frames: int | None) -> AbstractContextManager[None]:
        if isinstance(self.model, WindowedWhisperModel):
            return self.model.encoder_window(frames)
        return nullcontext()  # a scripted model in tests


_P = ParamSpec("_P")
_T = TypeVar("_T")

_asr_executor: ThreadPoolExecutor | None = None
_asr_executor_lock = threading.Lock()


def asr_executor() -> ThreadPoolExecutor:
    """This process's single ASR thread: inference from every lecture queues here in order."""
    global _asr_executor
    with _asr_executor_lock:
        if _asr_executor is None:
            _asr_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearus-asr")
        return _asr_executor


async def run_in_asr_thread(
    function: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Await `function(*args, **kwargs)` run on the ASR thread, keeping the event loop free.

    For example `update = await run_in_asr_thread(transcriber.process)`.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(asr_executor(), functools.partial(function, *args, **kwargs))
