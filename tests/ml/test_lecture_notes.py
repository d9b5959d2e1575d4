"""The notes pipeline (ml.lecture_notes) on caption fragments: real Kiwi, real e5 where vectors
matter. No Django."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from hearus_testkit import MODEL_CACHE_DIR
from ml.background import WRITTEN_FILE, general_log_probs, written_korean_frequencies
from ml.encoder import DEFAULT_ENCODER_DIRNAME, get_encoder, prepare_e5_encoder
from ml.lecture_notes import (
    Caption,
    build_notes,
    caption_sentences,
    find_sections,
    lexical_vectors,
    read_captions,
    section_count,
)
from ml.subtitles import CaptionFileError, parse_captions

# Three topics, spoken without punctuation (as live captions of unpunctuated speech arrive).
TOPICS = [
    [
        "경사 하강법은 손실 함수의 기울기를 따라 가중치를 조금씩 바꾸는 방법입니다",
        "학습률이 너무 크면 경사 하강법이 발산할 수 있습니다",
        "학습률이 너무 작으면 손실 함수가 아주 천천히 줄어듭니다",
        "확률적 경사 하강법은 미니배치로 기울기를 추정합니다",
        "모멘텀은 이전 기울기를 기억해서 경사 하강법을 빠르게 만듭니다",
        "아담 최적화는 기울기의 평균과 분산으로 학습률을 조절합니다",
        "손실 함수가 평평한 곳에서는 기울기가 작아서 학습이 느립니다",
        "학습률 스케줄은 학습이 진행될수록 학습률을 줄여 줍니다",
        "기울기 폭발을 막으려고 기울기를 잘라 내기도 합니다",
        "경사 하강법의 수렴은 손실 함수의 모양에 달려 있습니다",
    ],
    [
        "합성곱 신경망은 이미지에서 특징을 뽑는 필터를 학습합니다",
        "필터는 이미지 위를 움직이면서 합성곱 연산을 합니다",
        "풀링 층은 특징 지도의 크기를 줄여서 계산을 아낍니다",
        "합성곱 신경망의 앞쪽 층은 가장자리 같은 단순한 특징을 찾습니다",
        "깊은 층의 필터는 눈이나 바퀴 같은 복잡한 모양에 반응합니다",
        "패딩은 이미지 가장자리의 정보를 잃지 않게 해 줍니다",
        "스트라이드가 크면 특징 지도가 작아집니다",
        "이미지 분류 대회에서 합성곱 신경망이 큰 성공을 거두었습니다",
        "데이터 증강은 이미지를 뒤집거나 잘라서 학습 데이터를 늘립니다",
        "합성곱 필터의 가중치는 이미지 전체에서 공유됩니다",
    ],
    [
        "강화 학습에서 에이전트는 환경과 상호 작용하며 보상을 받습니다",
        "에이전트의 목표는 누적 보상을 최대로 만드는 정책을 찾는 것입니다",
        "큐 러닝은 상태와 행동의 가치를 표로 배웁니다",
        "탐험과 활용 사이의 균형이 강화 학습의 핵심 문제입니다",
        "할인율은 먼 미래의 보상을 얼마나 중요하게 볼지 정합니다",
        "정책 경사 방법은 정책을 직접 조금씩 고칩니다",
        "바둑 프로그램은 강화 학습으로 스스로 대국하며 실력을 키웠습니다",
        "보상이 드물면 에이전트가 배우기 어렵습니다",
        "환경의 상태가 너무 많으면 신경망으로 가치를 근사합니다",
        "시뮬레이션 환경은 강화 학습 실험을 안전하게 해 줍니다",
    ],
]


def fragments(sentences: list[str], start_ms: int, seq: int) -> tuple[list[Caption], int, int]:
    """Captions cut every 3 words, as an 8-second limit cuts speech mid-sentence."""
    captions: list[Caption] = []
    now = start_ms
    for sentence in sentences:
        words = sentence.split()
        for i in range(0, len(words), 3):
            text = " ".join(words[i : i + 3])
            captions.append(Caption(seq, now, now + 6900, text))
            seq += 1
            now += 7000
    return captions, now, seq


def lecture_captions(repeat: int = 1) -> list[Caption]:
    captions: list[Caption] = []
    now, seq = 0, 1
    for topic in TOPICS:
        for _ in range(repeat):
            part, now, seq = fragments(topic, now, seq)
            captions += part
        now += 12_000  # a pause between topics
    return captions


def piece_text(captions: list[Caption], sentence: object) -> str:
    texts = {c.seq: c.text for c in captions}
    return " ".join(texts[s.seq][s.start : s.end] for s in sentence.spans)  # type: ignore[attr-defined]


# --- caption files -------------------------------------------------------------------------------


def test_parse_captions_reads_vtt_srt_and_sbv() -> None:
    vtt = (
        "WEBVTT\n\nNOTE a note\n\n00:00:01.000 --> 00:00:03.500 align:start\n"
        "<c.x>안녕하세요</c>\n여러분\n\n00:04.000 --> 00:05.000\n둘째\n"
    )
    srt = (
        "1\r\n00:00:01,000 --> 00:00:03,500\r\n안녕하세요\r\n\r\n"
        "2\r\n00:00:04,000 --> 00:00:05,000\r\n둘째\r\n"
    )
    sbv = "0:00:01.000,0:00:03.500\n안녕하세요 [br]여러분\n\n0:00:04.000,0:00:05.000\n둘째\n"
    for text in (vtt, sbv):
        cues = parse_captions(text)
        assert [(c.start_ms, c.end_ms, c.text) for c in cues] == [
            (1000, 3500, "안녕하세요 여러분"),
            (4000, 5000, "둘째"),
        ]
    assert [c.text for c in parse_captions(srt)] == ["안녕하세요", "둘째"]
    with pytest.raises(CaptionFileError):
        parse_captions("그냥 글입니다.\n둘째 줄")
    plain = read_captions("첫 줄입니다.\n\n둘째 줄입니다.\n")
    assert [(c.seq, c.start_ms, c.text) for c in plain] == [
        (1, 0, "첫 줄입니다."),
        (3, 0, "둘째 줄입니다."),
    ]


# --- 1. sentences from fragments -----------------------------------------------------------------


def test_fragments_become_whole_sentences_that_point_back_at_their_captions() -> None:
    captions = lecture_captions()
    sentences = caption_sentences(captions)
    expected = [s for topic in TOPICS for s in topic]
    assert len(captions) > 2 * len(expected)  # the input really is fragments
    assert [s.text for s in sentences] == expected
    for sentence in sentences:
        assert piece_text(captions, sentence) == sentence.text
        assert sentence.end_ms > sentence.start_ms
    assert sentences[10].pause_ms == 100 + 12_000  # the pause before the second topic
    assert sentences[11].pause_ms == 100


def test_a_sentence_inside_one_caption_gets_a_time_inside_that_caption() -> None:
    captions = [Caption(1, 10_000, 20_000, "첫 문장입니다. 둘째 문장은 조금 더 깁니다.")]
    first, second = caption_sentences(captions)
    assert (first.seq, first.spans[0].start) == (1, 0)
    assert 10_000 <= first.start_ms < second.start_ms < 20_000
    assert captions[0].text[second.spans[0].start : second.spans[0].end] == second.text


def test_a_run_on_without_endings_is_cut_at_caption_boundaries() -> None:
    captions = [
        Caption(i, i * 1000, i * 1000 + 900, "그리고 계속 말하면서 " * 6) for i in range(1, 40)
    ]
    sentences = caption_sentences(captions)
    assert len(sentences) > 1
    assert all(len(s.text) <= 400 for s in sentences)
    assert sum(len(s.spans) for s in sentences) == len(captions)


# --- 3. sections ---------------------------------------------------------------------------------


def test_sections_follow_the_topic_shifts() -> None:
    captions = lecture_captions(repeat=2)
    sentences = caption_sentences(captions)
    notes = build_notes(captions)
    terms = [[w for w in s.text.split()] for s in sentences]  # any features: lexical words
    ranges = find_sections(lexical_vectors(terms), [s.pause_ms for s in sentences], 3)
    assert [start for start, _ in ranges] == [0, 20, 40]
    assert [(s.start, s.end) for s in notes.sections] == [(0, 20), (20, 40), (40, 60)]
    titles = [set(section.terms) for section in notes.sections]
    assert titles[0] & {"경사하강법", "학습률", "기울기", "손실함수"}
    assert titles[1] & {"합성곱신경망", "필터", "이미지", "특징"}
    assert titles[2] & {"강화학습", "에이전트", "보상", "정책"}
    for section in notes.sections:
        assert 1 <= len(section.summary) <= 3
        assert section.title == " · ".join(section.terms)
        for line in section.summary:
            assert all(section.start <= i < section.end for i in line.sentences)


def test_section_count_grows_with_the_lecture() -> None:
    assert section_count(1200, 90.0) == 11
    assert 5 <= section_count(1200, None) <= 15
    assert section_count(30, 3.0) == 1
    assert section_count(10, 200.0) == 1  # never sections of fewer than 8 sentences


# --- 5-6. the summary ----------------------------------------------------------------------------


def test_the_summary_covers_every_section_and_repeats_nothing() -> None:
    captions = lecture_captions(repeat=2)  # every sentence is said twice
    notes = build_notes(captions, max_summary=6)
    assert len(notes.summary) == 6
    chosen = [i for line in notes.summary for i in line.sentences]
    for section in notes.sections:
        assert any(section.start <= i < section.end for i in chosen)
    texts = [notes.line_text(line) for line in notes.summary]
    assert len(set(texts)) == len(texts)  # the repeated sentences are never chosen twice
    assert chosen == sorted(chosen)


def test_an_answer_brings_its_question() -> None:
    said = [
        "오늘은 경사 하강법을 공부합니다",
        "경사 하강법은 손실 함수의 기울기를 따라 가중치를 바꿉니다",
        "학생 질문 있습니다 학습률은 왜 필요한가요?",
        "학습률은 경사 하강법에서 가중치를 바꾸는 보폭이라서 손실 함수의 기울기에 곱해집니다",
        "네 좋습니다",
        "잠깐 쉬었다 하겠습니다",
    ]
    captions = [Caption(i, i * 5000, i * 5000 + 4000, text) for i, text in enumerate(said, 1)]
    notes = build_notes(captions, max_summary=1)
    (line,) = notes.summary
    assert [notes.sentences[i].text for i in line.sentences][-1].startswith("학습률은 경사")
    assert notes.sentences[line.sentences[0]].question
    assert "왜 필요한가요?" in notes.line_text(line)


def test_the_e5_vectors_give_sections_and_a_summary_too() -> None:
    encoder = get_encoder(prepare_e5_encoder(MODEL_CACHE_DIR / DEFAULT_ENCODER_DIRNAME))
    captions = lecture_captions(repeat=2)
    notes = build_notes(captions, encoder.encode, max_summary=3)
    assert len(notes.sections) >= 2  # 60 sentences in about 25 minutes
    assert len(notes.summary) == 3
    chosen = {i // 20 for line in notes.summary for i in line.sentences}
    assert len(chosen) >= 2  # coverage: not every line from one topic


# --- background ----------------------------------------------------------------------------------


def test_the_general_background_expects_everyday_nouns_more_than_topics() -> None:
    log_probs = general_log_probs(["사람", "부분", "윤회", "역전파", "network"])
    assert log_probs["사람"] > log_probs["윤회"] + 3
    assert log_probs["부분"] > log_probs["역전파"] + 3
    assert np.isfinite(log_probs["network"])


def test_the_shipped_written_korean_frequencies_match_installed_konlpy() -> None:
    from konlpy.corpus import kobill, kolaw  # type: ignore[import-untyped]

    data = json.loads(WRITTEN_FILE.read_text(encoding="utf-8"))
    for name, digest in data["sha256"].items():
        corpus, file_id = name.split("/")
        text = (kobill if corpus == "kobill" else kolaw).open(file_id).read()
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest
    frequencies = written_korean_frequencies()
    assert frequencies.documents == 11
    for generic in ("이하", "필요", "발생"):
        assert frequencies.frequencies[generic] >= 7
    assert all(re.fullmatch(r"\S+", term) for term in frequencies.frequencies)
