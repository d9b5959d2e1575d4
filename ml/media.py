"""Audio from media files: decode anything PyAV reads to 16 kHz mono float32; sniff the container.

`decode_media` takes WAV, MP3, M4A/AAC, WEBM/Opus, OGG, FLAC, MP4/MOV, MKV... (whatever the
FFmpeg inside PyAV demuxes and decodes), with or without video; the first audio track is
decoded, down-mixed and resampled. Damaged packets are skipped (as faster-whisper does); a file
that yields no audio at all is a `MediaError` whose message says what to do.

`sniff_media_type` names the container from the file's content (magic bytes, then PyAV's own
content probe), never from its name: an MP3 called `lecture.wav` is `audio/mpeg`. Containers
that may hold either (MP4, WebM/Matroska, Ogg, ASF, 3GP) are `video/...` when a video track is
present (cover art does not count) and `audio/...` otherwise.
"""

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import numpy as np
from av.container import InputContainer
from av.stream import Disposition

from ml.asr import SAMPLE_RATE, FloatAudio

SUPPORTED_FORMATS_HINT = "WAV, MP3, M4A/AAC, WEBM/Opus, OGG, FLAC or MP4"

# MIME type -> usual file extension (for storing an upload under a name that matches its content).
EXTENSIONS: dict[str, str] = {
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/aac": ".aac",
    "audio/mp4": ".m4a",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "audio/3gpp": ".3gp",
    "video/3gpp": ".3gp",
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/x-matroska": ".mka",
    "video/x-matroska": ".mkv",
    "audio/ogg": ".ogg",
    "video/ogg": ".ogv",
    "audio/flac": ".flac",
    "audio/aiff": ".aiff",
    "audio/amr": ".amr",
    "audio/x-caf": ".caf",
    "audio/x-ms-wma": ".wma",
    "video/x-ms-wmv": ".wmv",
    "video/x-msvideo": ".avi",
    "video/mp2t": ".ts",
    "video/mpeg": ".mpg",
    "video/x-flv": ".flv",
}

_HEAD_BYTES = 4096

# Families whose MIME type depends on whether a video track is present: (audio, video).
_MP4 = ("audio/mp4", "video/mp4")
_3GPP = ("audio/3gpp", "video/3gpp")
_WEBM = ("audio/webm", "video/webm")
_MATROSKA = ("audio/x-matroska", "video/x-matroska")
_OGG = ("audio/ogg", "video/ogg")
_ASF = ("audio/x-ms-wma", "video/x-ms-wmv")

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_AUDIO_MP4_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")

# PyAV (FFmpeg) demuxer name -> MIME type or audio/video pair, for files without a known magic.
_PYAV_FORMATS: dict[str, str | tuple[str, str]] = {
    "wav": "audio/wav",
    "w64": "audio/wav",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "aiff": "audio/aiff",
    "amr": "audio/amr",
    "caf": "audio/x-caf",
    "ogg": _OGG,
    "mov": _MP4,
    "matroska": _MATROSKA,
    "webm": _WEBM,
    "asf": _ASF,
    "avi": "video/x-msvideo",
    "mpegts": "video/mp2t",
    "mpeg": "video/mpeg",
    "flv": "video/x-flv",
}


class MediaError(ValueError):
    """A file that gives no audio: missing, empty, not media, damaged, or without a sound track."""


class MediaTooLongError(MediaError):
    """Decoding passed `max_seconds` of audio (whatever the file's header declared)."""

    def __init__(self, name: str, max_seconds: float) -> None:
        super().__init__(f"{name} holds more than {max_seconds:g} s of audio.")
        self.max_seconds = max_seconds


# -- decoding -------------------------------------------------------------------------------------


def decode_media(path: Path, *, max_seconds: float | None = None) -> FloatAudio:
    """The first audio track of `path` as 16 kHz mono float32 samples in [-1, 1].

    With `max_seconds`, decoding stops with `MediaTooLongError` as soon as more audio than that
    has come out: the limit holds for what the file really contains, whatever its header
    says, and a long file is never decoded whole into memory only to be refused.

    Raises `MediaError` (its message is meant for the person who chose the file) when the file
    is missing, empty, not a media file PyAV can read, has no audio track, or yields no audio.
    Packets that fail to decode are skipped, so a damaged or truncated file gives what it can.
    """
    path = Path(path)
    name = path.name or str(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file.")
    if not path.is_file():
        raise MediaError(f"{path} is not a file: choose an audio or video file.")
    if path.stat().st_size == 0:
        raise MediaError(
            f"{name} is empty (0 bytes): the recording or upload did not complete. "
            "Record or upload it again."
        )
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as error:
        raise MediaError(
            f"{name} is not an audio or video file that can be read "
            f"({_ffmpeg_reason(error)}). Use {SUPPORTED_FORMATS_HINT}."
        ) from error
    with container:
        if not container.streams.audio:
            kinds = " and ".join(sorted({str(stream.type) for stream in container.streams}))
            holds = f"it holds {kinds} streams only" if kinds else "it holds no streams"
            raise MediaError(f"{name} has no audio track ({holds}): choose a recording with sound.")
        samples = _decode_audio_stream(container, name, max_seconds)
    if samples.size == 0:
        raise MediaError(
            f"{name} has an audio track but no sound could be decoded from it: the file may be "
            f"damaged or cut short. Export it again as {SUPPORTED_FORMATS_HINT}."
        )
    return samples


def _decode_audio_stream(
    container: InputContainer, name: str, max_seconds: float | None = None
) -> FloatAudio:
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[FloatAudio] = []
    max_samples = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
    decoded = 0

    def keep(frames: list[av.AudioFrame]) -> None:
        nonlocal decoded
        for frame in frames:
            chunks.append(frame.to_ndarray().reshape(-1).astype(np.float32, copy=True))
            decoded += chunks[-1].size
            if max_samples is not None and decoded > max_samples:
                assert max_seconds is not None
                raise MediaTooLongError(name, max_seconds)

    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # a damaged packet: skip it, as faster-whisper does
            for frame in frames:
                if isinstance(frame, av.AudioFrame):
                    keep(resampler.resample(frame))
    except av.error.FFmpegError as error:
        if not chunks:
            raise MediaError(
                f"{name} could not be decoded ({_ffmpeg_reason(error)}). "
                f"Use {SUPPORTED_FORMATS_HINT}."
            ) from error
        # A truncated file: keep the audio decoded before the damage.
    keep(resampler.resample(None))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    audio = np.concatenate(chunks)
    np.clip(audio, -1.0, 1.0, out=audio)  # lossy codecs overshoot full scale a little
    return audio


def _ffmpeg_reason(error: av.error.FFmpegError) -> str:
    reason = getattr(error, "strerror", None) or str(error)
    return str(reason).rstrip(".").lower()


# -- sniffing ------------------------------------------------------------------------------------


def sniff_media_type(path: Path) -> str | None:
    """The MIME type of the media container in `path`, judged by content; None if not media.

    The first bytes decide where they carry a known signature; otherwise FFmpeg's content probe
    (through a file object, so the name plays no part) does. None also for an empty or
    unreadable file and for formats outside `EXTENSIONS` (images, subtitles, text...).
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            head = file.read(_HEAD_BYTES)
            if head.startswith(b"ID3"):
                head = _skip_id3(file, head)
    except OSError:
        return None
    if not head:
        return None
    found = _type_from_magic(head)
    if found is None:
        found = _type_from_pyav_probe(path)
    if isinstance(found, tuple):
        kinds = _stream_kinds(path)
        has_video = kinds is not None and kinds[1]
        return found[1] if has_video else found[0]
    return found


def _skip_id3(file: BinaryIO, head: bytes) -> bytes:
    """The bytes after an ID3v2 tag (a tag may hold megabytes of cover art)."""
    if len(head) < 10:
        return head
    size = 0
    for byte in head[6:10]:  # "synchsafe": 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    size += 10 + (10 if head[5] & 0x10 else 0)  # header, optional footer
    file.seek(size)
    return file.read(64)  # empty when the tag is all there is: not media


def _type_from_magic(head: bytes) -> str | tuple[str, str] | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[:4] == b"caff":
        return "audio/x-caf"
    if head[:4] == b"OggS":
        return _OGG
    if head[:16] == _ASF_GUID:
        return _ASF
    if head[:4] == _EBML_MAGIC:
        return _WEBM if b"webm" in head[:64] else _MATROSKA
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_MP4_BRANDS:
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand.startswith((b"3gp", b"3g2")):
            return _3GPP
        return _MP4
    # MPEG audio and ADTS AAC without a tag start with a frame header: 12 bits of sync that
    # random data matches too often. FFmpeg's probe, which wants several frames in a row, decides.
    return None


@contextlib.contextmanager
def _opened_by_content(path: Path) -> Iterator[InputContainer | None]:
    """`path` opened by PyAV through a file object (no file name, so FFmpeg probes content only);
    None when FFmpeg cannot read it."""
    with contextlib.ExitStack() as stack:
        try:
            file = stack.enter_context(path.open("rb"))
            container = stack.enter_context(av.open(file, mode="r", metadata_errors="ignore"))
        except (OSError, av.error.FFmpegError, ValueError):
            container = None
        yield container


def _type_from_pyav_probe(path: Path) -> str | tuple[str, str] | None:
    with _opened_by_content(path) as container:
        if container is None or not (container.streams.audio or container.streams.video):
            return None
        for name in container.format.name.split(","):
            if name in _PYAV_FORMATS:
                return _PYAV_FORMATS[name]
    return None


def _stream_kinds(path: Path) -> tuple[bool, bool] | None:
    """(has audio, has video) as PyAV sees the file; cover art is not video. None: unreadable."""
    with _opened_by_content(path) as container:
        if container is None:
            return None
        has_video = any(
            not stream.disposition & Disposition.attached_pic for stream in container.streams.video
        )
        return bool(container.streams.audio), has_video


# -- probing -------------------------------------------------------------------------------------


def probe_media(path: Path) -> tuple[bool, float | None]:
    """(has an audio track, duration in seconds or None if unknown) as the container declares
    them, without decoding: cheap enough to check an upload while its request waits. The
    declared duration can be wrong (a damaged or streamed file); decode to be sure."""
    with _opened_by_content(Path(path)) as container:
        if container is None:
            return False, None
        has_audio = bool(container.streams.audio)
        duration: float | None = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        elif has_audio:
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
        return has_audio, duration


# -- writing the kept audio ------------------------------------------------------------------------

# Speech at 24 kbit/s Opus is ~11 MB an hour, and transparent enough for a student replaying a
# sentence (FLAC would be ~60 MB an hour for no audible gain on a lecture microphone).
KEPT_AUDIO_BITRATE = 24_000
KEPT_AUDIO_CONTENT_TYPE = "audio/ogg"


def encode_speech(pcm16_chunks: Iterable[bytes], path: Path) -> float:
    """Write 16 kHz mono PCM16 chunks as Ogg Opus at `path`; returns the seconds written.

    Opus runs at 48 kHz inside, so PyAV resamples; chunks may be any whole number of samples."""
    samples = 0
    with av.open(str(path), mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="mono")
        stream.bit_rate = KEPT_AUDIO_BITRATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for chunk in pcm16_chunks:
            if len(chunk) % 2:
                raise ValueError("PCM16 data must have an even number of bytes")
            if not chunk:
                continue
            frame = av.AudioFrame.from_ndarray(
                np.frombuffer(chunk, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = samples
            samples += len(chunk) // 2
            for resampled in resampler.resample(frame):
                container.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            container.mux(stream.encode(resampled))
        container.mux(stream.encode(None))
    return samples / SAMPLE_RATE
