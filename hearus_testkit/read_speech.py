"""A read-speech evaluation set made on the spot: public-domain passages, several espeak-ng voices
and speeds (English), and lecture sentences in espeak-ng's Korean voice.

Nothing here is committed audio: each clip is synthesized into a cache folder the first time.
`bench/asr_quality.py` uses the whole set; the real-model tests use a clip or two.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hearus_testkit.speech import synthesize
from ml.asr import SAMPLE_RATE, FloatAudio


@dataclass(frozen=True)
class Passage:
    name: str
    language: str
    voice: str
    words_per_minute: int | None  # None: espeak-ng's default (175)
    text: str


@dataclass(frozen=True)
class Clip:
    passage: Passage
    audio: FloatAudio  # 16 kHz mono, with a little silence before and after

    @property
    def duration_s(self) -> float:
        return self.audio.size / SAMPLE_RATE


# All public domain (published before 1900). Voices and speeds vary from passage to passage.
ENGLISH_PASSAGES: tuple[Passage, ...] = (
    Passage(
        "gettysburg",
        "en",
        "en-us",
        None,
        "Four score and seven years ago our fathers brought forth on this continent a new "
        "nation, conceived in liberty, and dedicated to the proposition that all men are "
        "created equal. Now we are engaged in a great civil war, testing whether that nation, "
        "or any nation so conceived and so dedicated, can long endure.",
    ),
    Passage(
        "candle",
        "en",
        "en-gb",
        150,
        "I purpose, in return for the honour you do us by coming to see what are our "
        "proceedings here, to bring before you, in the course of these lectures, the Chemical "
        "History of a Candle. There is not a law under which any part of this universe is "
        "governed which does not come into play in these phenomena.",
    ),
    Passage(
        "pride",
        "en",
        "en-us+m3",
        190,
        "It is a truth universally acknowledged, that a single man in possession of a good "
        "fortune, must be in want of a wife. However little known the feelings or views of such "
        "a man may be on his first entering a neighbourhood, this truth is so well fixed in the "
        "minds of the surrounding families.",
    ),
    Passage(
        "origin",
        "en",
        "en-gb-x-rp",
        165,
        "When on board the ship Beagle, as naturalist, I was much struck with certain facts in "
        "the distribution of the inhabitants of South America, and in the geological relations "
        "of the present to the past inhabitants of that continent. These facts seemed to me to "
        "throw some light on the origin of species.",
    ),
    Passage(
        "alice",
        "en",
        "en-us+f2",
        160,
        "Alice was beginning to get very tired of sitting by her sister on the bank, and of "
        "having nothing to do. Once or twice she had peeped into the book her sister was "
        "reading, but it had no pictures or conversations in it, and what is the use of a "
        "book, thought Alice, without pictures or conversations?",
    ),
    Passage(
        "declaration",
        "en",
        "en-us",
        200,
        "We hold these truths to be self-evident, that all men are created equal, that they "
        "are endowed by their Creator with certain unalienable Rights, that among these are "
        "Life, Liberty and the pursuit of Happiness. That to secure these rights, Governments "
        "are instituted among Men.",
    ),
)

KOREAN_PASSAGES: tuple[Passage, ...] = (
    Passage(
        "lecture-ko",
        "ko",
        "ko",
        None,
        "안녕하세요, 여러분. 오늘은 인공지능 수업의 세 번째 시간입니다. "
        "지난 시간에는 선형 회귀와 손실 함수에 대해 배웠습니다. "
        "오늘은 모델이 데이터에서 어떻게 학습하는지 살펴보겠습니다. "
        "핵심 아이디어는 경사 하강법이라고 부릅니다. "
        "먼저 가중치를 무작위로 정하고 학습 데이터에서 오차를 측정합니다. "
        "그 다음 오차가 줄어드는 방향으로 가중치를 조금씩 움직입니다.",
    ),
    Passage(
        "law-ko",
        "ko",
        "ko",
        150,
        "이번 시간에는 법률안이 국회에서 처리되는 과정을 설명하겠습니다. "
        "법률안은 정부나 국회의원이 제출할 수 있습니다. "
        "제출된 법률안은 소관 상임위원회에서 심사를 받습니다. "
        "이 학습률이 너무 크면 모델이 수렴하지 않고, 너무 작으면 시간이 오래 걸립니다. "
        "다음 시간에는 과적합에 대해 이야기하겠습니다. 수고하셨습니다.",
    ),
)

KOREAN_VOCABULARY = "인공지능, 선형 회귀, 경사 하강법, 학습률, 법률안, 상임위원회"


def make_clip(passage: Passage, directory: Path) -> Clip:
    speech = synthesize(
        passage.text, passage.voice, directory, words_per_minute=passage.words_per_minute
    )
    lead = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    tail = np.zeros(SAMPLE_RATE, dtype=np.float32)
    return Clip(passage, np.concatenate([lead, speech, tail]))
