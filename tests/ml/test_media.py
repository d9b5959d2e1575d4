"""Decoding recordings of every common container to 16 kHz mono, and sniffing them by content."""

import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from hearus_testkit.encoding import encode, encode_video_only
from hearus_testkit.speech import synthesize_wav
from ml.asr import FloatAudio
from ml.audio import read_wav
from ml.media import EXTENSIONS, MediaError, decode_media, sniff_media_type

CLIP_TEXT = "Captions for every student, in every lecture."


@pytest.fixture(scope="module")
def clip_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_wav(CLIP_TEXT, "en-us", tmp_path_factory.mktemp("media-clip"))


@pytest.fixture(scope="module")
def clip(clip_wav: Path) -> FloatAudio:
    return read_wav(clip_wav)


# name, codec, sample rate, channels, with video, expected type
CASES = [
    ("clip.mp3", "libmp3lame", 44_100, "stereo", False, "audio/mpeg"),
    ("clip.m4a", "aac", 48_000, "mono", False, "audio/mp4"),
    ("clip.webm", "libopus", 48_000, "stereo", False, "audio/webm"),
    ("clip.mp4", "aac", 44_100, "mono", False, "audio/mp4"),
    ("movie.mp4", "aac", 48_000, "stereo", True, "video/mp4"),
    ("clip.ogg", "libopus", 48_000, "mono", False, "audio/ogg"),
    ("clip.flac", "flac", 22_050, "mono", False, "audio/flac"),
]


@pytest.mark.parametrize(("name", "codec", "rate", "layout", "with_video", "expected"), CASES)
def test_decodes_each_container_to_16k_mono(
    tmp_path: Path,
    clip: FloatAudio,
    name: str,
    codec: str,
    rate: int,
    layout: str,
    with_video: bool,
    expected: str,
) -> None:
    path = encode(clip, tmp_path / name, codec, rate=rate, layout=layout, with_video=with_video)

    audio = decode_media(path)

    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(len(clip), rel=0.05)
    assert float(np.abs(audio).max()) <= 1.0
    # The speech is there, not silence: loudness within a factor of two of the source.
    rms = float(np.sqrt(np.mean(audio**2)))
    source_rms = float(np.sqrt(np.mean(clip**2)))
    assert source_rms / 2 < rms < source_rms * 2
    assert sniff_media_type(path) == expected
    assert expected in EXTENSIONS


def test_wav_is_decoded_and_sniffed(clip_wav: Path, clip: FloatAudio) -> None:
    audio = decode_media(clip_wav)
    assert len(audio) == len(clip)
    np.testing.assert_allclose(audio, clip, atol=1e-4)
    assert sniff_media_type(clip_wav) == "audio/wav"


def test_content_not_the_name_decides(tmp_path: Path, clip: FloatAudio) -> None:
    mp3 = encode(clip, tmp_path / "clip.mp3", "libmp3lame", rate=44_100)
    disguised = tmp_path / "lecture.wav"
    shutil.copy(mp3, disguised)
    nameless = tmp_path / "upload"
    shutil.copy(mp3, nameless)

    for path in (disguised, nameless):
        assert sniff_media_type(path) == "audio/mpeg"
        assert len(decode_media(path)) == pytest.approx(len(clip), rel=0.05)


def test_mp3_without_id3_tag_is_found_by_probe(tmp_path: Path, clip: FloatAudio) -> None:
    mp3 = encode(clip, tmp_path / "clip.mp3", "libmp3lame", rate=44_100).read_bytes()
    assert mp3.startswith(b"ID3")
    tag_size = 0
    for byte in mp3[6:10]:  # ID3v2 sizes are "synchsafe": 7 bits per byte
        tag_size = (tag_size << 7) | byte
    bare = tmp_path / "bare.bin"
    bare.write_bytes(mp3[10 + tag_size :])
    assert bare.read_bytes()[0] == 0xFF  # now it starts with an MPEG frame header

    assert sniff_media_type(bare) == "audio/mpeg"
    assert len(decode_media(bare)) == pytest.approx(len(clip), rel=0.05)


def test_text_renamed_mp3_is_not_media(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp3"
    fake.write_text("Lecture notes, week 1.\nThis is not a recording.\n", encoding="utf-8")

    assert sniff_media_type(fake) is None
    with pytest.raises(MediaError, match=r"notes\.mp3 is not an audio or video file"):
        decode_media(fake)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.m4a"
    empty.touch()

    assert sniff_media_type(empty) is None
    with pytest.raises(MediaError, match=r"empty\.m4a is empty \(0 bytes\)"):
        decode_media(empty)


def test_video_without_sound(tmp_path: Path) -> None:
    silent_movie = encode_video_only(tmp_path / "slides.mp4")

    assert sniff_media_type(silent_movie) == "video/mp4"
    with pytest.raises(MediaError, match=r"slides\.mp4 has no audio track \(it holds video"):
        decode_media(silent_movie)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert sniff_media_type(tmp_path / "absent.wav") is None
    assert sniff_media_type(tmp_path) is None
    with pytest.raises(MediaError, match="no such file"):
        decode_media(tmp_path / "absent.wav")
    with pytest.raises(MediaError, match="is not a file"):
        decode_media(tmp_path)


def test_truncated_file_gives_what_it_can(tmp_path: Path, clip: FloatAudio) -> None:
    mp3 = encode(clip, tmp_path / "clip.mp3", "libmp3lame", rate=44_100).read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3[: len(mp3) // 2])

    audio = decode_media(cut)
    assert 0.3 * len(clip) < len(audio) < 0.7 * len(clip)


def test_image_is_not_media(tmp_path: Path) -> None:
    picture = tmp_path / "slide.png"
    with av.open(str(picture), mode="w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), dtype=np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)

    assert sniff_media_type(picture) is None
    with pytest.raises(MediaError, match="no audio track"):
        decode_media(picture)
