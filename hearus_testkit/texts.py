"""Fixture texts: what espeak-ng speaks in the tests, and Korean lecture captions."""

import random

ENGLISH_TEXT = (
    "The lecture today covers the basic ideas of machine learning. "
    "We will start with linear regression, and then discuss how a model learns from data. "
    "Please ask questions at any time."
)
# About 25 s of espeak-ng speech: long enough to break something in the middle of it.
LONGER_ENGLISH_TEXT = (
    ENGLISH_TEXT + " Last week we talked about the idea of a loss function. "
    "The key idea today is called gradient descent. "
    "We start with random weights and measure the error on the training set. "
    "Then we move each weight a small step in the direction that reduces the error."
)
KOREAN_TEXT = (
    "오늘 수업에서는 인공지능의 기본 개념을 배웁니다. "
    "먼저 선형 회귀를 살펴보고 모델이 데이터에서 어떻게 학습하는지 이야기하겠습니다."
)


# A short Korean lecture about neural networks, one caption a line, with a few off-topic lines
# (window, homework, "can you hear me"): for notes, keywords and summaries.
LECTURE = [
    "안녕하세요, 오늘 수업을 시작하겠습니다.",
    "오늘은 신경망의 학습 방법인 역전파를 공부합니다.",
    "신경망은 여러 층의 뉴런으로 이루어져 있습니다.",
    "각 뉴런은 입력에 가중치를 곱하고 활성화 함수를 적용합니다.",
    "잠깐 창문 좀 닫아 주시겠어요?",
    "역전파는 출력의 오차를 거꾸로 전달하면서 가중치의 기울기를 계산합니다.",
    "기울기를 알면 경사 하강법으로 가중치를 조금씩 고칩니다.",
    "학습률이 너무 크면 경사 하강법이 발산할 수 있습니다.",
    "학습률이 너무 작으면 학습이 아주 느려집니다.",
    "네, 다들 잘 들리시나요?",
    "활성화 함수로는 렐루 함수를 많이 씁니다.",
    "시그모이드 함수는 기울기 소실 문제가 있습니다.",
    "기울기 소실 때문에 깊은 신경망의 학습이 어려웠습니다.",
    "그래서 렐루 함수와 좋은 초기화 방법이 중요합니다.",
    "과제는 다음 주 월요일까지 제출해 주세요.",
    "오차 함수로는 분류에서 교차 엔트로피를 씁니다.",
    "역전파와 경사 하강법을 합치면 신경망 학습의 전체 과정이 됩니다.",
    "다음 시간에는 합성곱 신경망을 배우겠습니다.",
    "오늘 수업은 여기까지입니다.",
    "질문이 있으면 메일로 보내 주세요.",
]


# ~40 varied sentences of a Korean lecture on AI, machine learning and search algorithms.
AI_COURSE_SENTENCES: tuple[str, ...] = (
    "오늘은 인공지능의 기본 개념을 살펴보겠습니다.",
    "인공 지능은 사람의 지능을 컴퓨터로 흉내 내는 기술입니다.",
    "기계 학습은 데이터에서 규칙을 스스로 찾아내는 인공지능의 한 분야입니다.",
    "지도 학습에서는 입력과 정답 레이블이 함께 주어집니다.",
    "비지도 학습은 레이블 없이 데이터의 구조를 찾습니다.",
    "강화 학습에서 에이전트는 보상을 최대화하도록 행동을 배웁니다.",
    "신경망은 여러 층의 뉴런으로 이루어진 모델입니다.",
    "딥러닝은 깊은 신경망을 사용하는 기계 학습 방법입니다.",
    "경사 하강법은 손실 함수의 기울기를 따라 가중치를 조금씩 바꿉니다.",
    "학습률이 너무 크면 손실 함수가 발산할 수 있습니다.",
    "과적합은 모델이 훈련 데이터를 외워 버리는 현상입니다.",
    "정규화와 드롭아웃은 과적합을 줄이는 방법입니다.",
    "검증 데이터로 모델의 일반화 성능을 확인합니다.",
    "탐색 알고리즘은 상태 공간에서 목표 상태를 찾는 방법입니다.",
    "너비 우선 탐색은 큐를 사용하여 가까운 노드부터 방문합니다.",
    "깊이 우선 탐색은 스택을 사용하여 한 경로를 끝까지 따라갑니다.",
    "그래프의 노드와 간선으로 문제의 상태를 표현할 수 있습니다.",
    "휴리스틱 함수는 목표까지의 비용을 추정합니다.",
    "A* 알고리즘은 휴리스틱 함수와 실제 비용을 더해서 노드를 고릅니다.",
    "휴리스틱이 비용을 과대평가하지 않으면 A* 탐색은 최적의 경로를 찾습니다.",
    "다익스트라 알고리즘은 가중치가 있는 그래프에서 최단 경로를 구합니다.",
    "우선순위 큐는 힙으로 구현하면 효율적입니다.",
    "게임 트리 탐색에서는 미니맥스 알고리즘을 사용합니다.",
    "알파 베타 가지치기는 탐색할 노드의 수를 크게 줄여 줍니다.",
    "인공지능 연구는 탐색과 추론에서 시작되었습니다.",
    "전문가 시스템은 규칙 기반 추론으로 진단을 내렸습니다.",
    "기계 학습 모델은 데이터가 많을수록 성능이 좋아지는 경향이 있습니다.",
    "특징 추출은 원시 데이터에서 유용한 정보를 뽑아내는 과정입니다.",
    "결정 트리는 질문을 반복하면서 데이터를 나눕니다.",
    "랜덤 포레스트는 여러 결정 트리의 예측을 모읍니다.",
    "서포트 벡터 머신은 두 클래스 사이의 마진을 최대화합니다.",
    "선형 회귀는 입력과 출력 사이의 직선 관계를 학습합니다.",
    "로지스틱 회귀는 분류 문제에 쓰이는 모델입니다.",
    "교차 검증은 데이터를 여러 번 나누어 모델을 평가합니다.",
    "합성곱 신경망은 이미지 인식에서 뛰어난 성능을 보입니다.",
    "순환 신경망은 문장 같은 순서 데이터를 처리합니다.",
    "트랜스포머는 어텐션 메커니즘으로 문장의 의미를 파악합니다.",
    "다음 시간에는 탐색 알고리즘의 시간 복잡도를 이야기하겠습니다.",
    "여러분, 질문이 있으면 언제든지 말씀해 주세요.",
    "이번 과제에서는 미로 문제를 너비 우선 탐색으로 풀어 봅니다.",
)


def synthetic_lecture(sentences: int = 1200, seed: int = 0) -> list[tuple[int, str]]:
    """A long lecture: the sentences above recombined at random into segments of 1 to 3
    sentences (like final captions), `sentences` sentences in all."""
    rng = random.Random(seed)
    segments: list[tuple[int, str]] = []
    left = sentences
    while left:
        size = min(left, rng.choice((1, 1, 2, 3)))
        segments.append((len(segments) + 1, " ".join(rng.choices(AI_COURSE_SENTENCES, k=size))))
        left -= size
    return segments
