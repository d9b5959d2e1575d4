"""Audio and video files encoded by PyAV, as people upload them (MP3, WebM, MP4 with a picture)."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ml.asr import SAMPLE_RATE, FloatAudio


def encode(
    audio: FloatAudio,
    path: Path,
    codec: str,
    *,
    rate: int,
    layout: str = "mono",
    with_video: bool = False,
) -> Path:
    """`audio` (16 kHz mono) encoded by PyAV into `path` at `rate` Hz; the container follows
    the file name. Stereo copies the channel; `with_video` adds a small MPEG-4 picture track."""
    samples = audio.astype(np.float32)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    source = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    source.sample_rate = SAMPLE_RATE
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        video = None
        if with_video:
            video = container.add_stream("mpeg4", rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            for index in range(round(len(audio) / SAMPLE_RATE * 10)):
                picture = np.full((48, 64, 3), index * 10 % 256, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts, frame.time_base = index, Fraction(1, 10)
                for packet in video.encode(frame):
                    container.mux(packet)
        for sound in [*resampler.resample(source), *resampler.resample(None)]:
            for packet in stream.encode(sound):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if video is not None:
            for packet in video.encode(None):
                container.mux(packet)
    return path


def encode_video_only(path: Path, seconds: float = 1.0) -> Path:
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for index in range(round(seconds * 10)):
            picture = np.full((48, 64, 3), 128, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path
