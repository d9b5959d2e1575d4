"""Keywords: nouns (compounds joined, stopwords out) -> windowed co-occurrence -> PageRank.

No Django. Kiwi ships its model; Okt needs a Java runtime (skipped without `java`, unless
HEARUS_REQUIRE_TOOLS=1, as in CI).
"""

from __future__ import annotations

import itertools
import re
import sys
from collections import Counter

import pytest

import ml.korean as korean
from hearus_testkit.texts import synthetic_lecture
from ml.keywords import (
    Keyword,
    Occurrence,
    cooccurrence_graph,
    extract_keywords,
    rank_nouns,
    sentence_mentions,
)
from ml.korean import (
    ENGLISH_STOPWORDS,
    KOREAN_STOPWORDS,
    Analyzer,
    AnalyzerUnavailable,
    get_analyzer,
)
from tests.ml.conftest import okt_or_skip

PARAGRAPH = (
    "오늘은 인공 지능과 기계 학습의 관계를 이야기하겠습니다. "
    "기계 학습은 데이터에서 규칙을 찾는 인공지능의 한 분야입니다. "
    "신경망은 기계 학습 모델의 하나이고, 딥러닝은 깊은 신경망을 씁니다. "
    "탐색 알고리즘도 인공지능의 오래된 주제입니다. "
    "너비 우선 탐색과 깊이 우선 탐색은 그래프의 노드를 방문하는 방법입니다."
)


@pytest.fixture(params=["kiwi", "okt"])
def analyzer(request: pytest.FixtureRequest) -> Analyzer:
    if request.param == "okt":
        return okt_or_skip()
    return get_analyzer("kiwi")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def terms(analyzer: Analyzer, text: str) -> list[str]:
    return [noun.text for noun in analyzer.nouns(text)]


# --- nouns ---------------------------------------------------------------------------------------


def test_compound_nouns_are_joined_with_spans_on_the_original_text(analyzer: Analyzer) -> None:
    text = "인공 지능과 인공지능은 같은 말입니다. 기계 학습도 그렇죠."
    nouns = analyzer.nouns(text)
    found = [(noun.text, text[noun.start : noun.end]) for noun in nouns]
    assert found[:2] == [("인공지능", "인공 지능"), ("인공지능", "인공지능")]
    assert ("기계학습", "기계 학습") in found
    assert "인공" not in [noun.text for noun in nouns]
    assert "지능" not in [noun.text for noun in nouns]


def test_compounds_never_cross_punctuation_or_sentences(analyzer: Analyzer) -> None:
    assert terms(analyzer, "인공지능, 탐색") == ["인공지능", "탐색"]
    sentences = analyzer.sentences("알고리즘을 배웁니다. 그래프 탐색은 재미있습니다.")
    assert [[n.text for n in s.nouns] for s in sentences] == [["알고리즘"], ["그래프탐색"]]


def test_stopwords_are_removed_before_joining(analyzer: Analyzer) -> None:
    text = "오늘 강의에서는 여러분과 함께 다음 시간까지 인공지능 이야기를 하겠습니다."
    assert terms(analyzer, text) == ["인공지능"]
    # The filler noun right before a term does not glue onto it ("오늘인공지능").
    assert terms(analyzer, "오늘 인공지능 수업") == ["인공지능"]
    assert {"것", "수", "때", "오늘", "여러분", "질문", "생각"} <= KOREAN_STOPWORDS


def test_one_character_nouns_are_dropped_unless_allowed(analyzer: Analyzer) -> None:
    nouns = terms(analyzer, "그 알고리즘은 큐와 힙을 씁니다. 이 방법은 좋아요.")
    assert nouns == ["알고리즘", "큐", "힙", "방법"]


def test_noun_suffixes_join_except_the_plural(analyzer: Analyzer) -> None:
    assert terms(analyzer, "최적화와 정규화, 학생들의 효율성") == ["최적화", "정규화", "효율성"]


def test_english_words_are_lower_cased_nouns_without_stopwords(analyzer: Analyzer) -> None:
    text = "Deep learning is a subset of Machine Learning. The GPU memory matters!"
    assert terms(analyzer, text) == [
        "deep",
        "learning",
        "subset",
        "machine",
        "learning",
        "gpu",
        "memory",
        "matter",  # plurals (and a verb's -s) fold to the singular
    ]
    assert {"the", "is", "a", "of", "okay"} <= ENGLISH_STOPWORDS


def test_latin_words_join_adjacent_korean_nouns(analyzer: Analyzer) -> None:
    text = "CPU 스케줄링과 GPU메모리, 그리고 BFS와 DFS"
    found = [(n.text, text[n.start : n.end]) for n in analyzer.nouns(text)]
    assert found == [
        ("cpu스케줄링", "CPU 스케줄링"),
        ("gpu메모리", "GPU메모리"),
        ("bfs", "BFS"),
        ("dfs", "DFS"),
    ]


def test_unknown_analyzer_is_refused() -> None:
    with pytest.raises(ValueError, match="kiwi, okt"):
        get_analyzer("mecab")


# --- the graph -----------------------------------------------------------------------------------


def test_graph_links_nouns_within_the_window_inside_sentences_only() -> None:
    graph = cooccurrence_graph([["a", "b", "c", "d"], ["d", "e"], ["a", "b"]], window=3)
    assert set(map(frozenset, graph.edges())) == {
        frozenset(pair) for pair in ("ab", "ac", "bc", "bd", "cd", "de")
    }
    assert not graph.has_edge("a", "d")  # three nouns apart: outside the window
    assert not graph.has_edge("c", "e")  # different sentences
    assert graph["a"]["b"]["weight"] == 2
    assert graph["d"]["e"]["weight"] == 1


def test_graph_keeps_lonely_nouns_and_skips_self_loops() -> None:
    graph = cooccurrence_graph([["a"], ["b", "b", "c"]], window=2)
    assert set(graph.nodes()) == {"a", "b", "c"}
    assert set(map(frozenset, graph.edges())) == {frozenset("bc")}
    with pytest.raises(ValueError):
        cooccurrence_graph([["a"]], window=1)


def test_topic_nouns_outrank_more_frequent_everyday_nouns() -> None:
    """사람 is said most, 윤회 and 해탈 carry the talk: weighed against general Korean (Kiwi's
    language model), the topics come first although plain frequency ranks 사람 first."""
    segments = [(i, "사람은 누구나 사람을 만납니다.") for i in range(5)] + [
        (10 + i, "윤회에서 벗어나는 것이 해탈입니다.") for i in range(3)
    ]
    mentions = [m.term for s in sentence_mentions(segments, get_analyzer("kiwi")) for m in s]
    assert Counter(mentions).most_common(1)[0][0] == "사람"
    keywords = extract_keywords(segments, top=10)
    ranked = [k.text for k in keywords]
    assert ranked.index("윤회") < ranked.index("사람")
    assert ranked.index("해탈") < ranked.index("사람")
    assert keywords[0].score == 1.0


def test_function_like_nouns_of_formal_text_are_never_keywords() -> None:
    """이하, 이상, 필요, 발생 occur in most of konlpy's formal documents: weight 0, so they come
    after every real term however often they are said."""
    text = "지원 대상은 만 8세 이하의 자녀이며 필요한 비용이 발생하면 육아휴직 급여를 지급한다."
    keywords = extract_keywords([(i, text) for i in range(4)], top=20)
    scores = {k.text: k.score for k in keywords}
    assert keywords[0].text == "육아휴직급여"  # "육아휴직 급여" recurs: one term
    for generic in ("이하", "필요", "발생"):
        assert scores.get(generic, 0.0) == 0.0
    assert sum(score > 0 for score in scores.values()) >= 5


def test_a_spaced_compound_is_glued_only_when_it_recurs() -> None:
    once = extract_keywords([(1, "직무범위 기타 필요한 사항을 정한다.")], top=10)
    assert "직무범위기타필요" not in {k.text for k in once}
    assert "직무범위" in {k.text for k in once}
    recurring = extract_keywords(
        [(1, "경사 하강 알고리즘을 배웁니다."), (2, "경사 하강 알고리즘은 기울기를 씁니다.")]
    )
    assert "경사하강알고리즘" in {k.text for k in recurring}


def test_spaced_and_glued_spellings_and_suffixed_variants_are_one_term() -> None:
    segments = [
        (1, "인공 지능을 배웁니다."),
        (2, "인공지능은 재미있습니다."),
        (3, "육아휴직자가 늘었습니다."),
        (4, "육아휴직 제도를 바꿉니다."),
        (5, "육아휴직자는 급여를 받습니다."),
    ]
    counts = {k.text: k.count for k in extract_keywords(segments, top=20)}
    assert counts["인공지능"] == 2
    # One term, named by its most frequent spelling (육아휴직자: twice, 육아휴직: once).
    assert counts["육아휴직자"] == 3
    assert "육아휴직" not in counts


def test_a_complete_graph_would_rank_everything_equal() -> None:
    """Why the window: link every noun of a sentence to every other and nothing stands out."""
    nouns = ["a", "b", "c", "d", "e"]
    complete = rank_nouns(cooccurrence_graph([nouns], window=len(nouns)))
    assert set(complete.values()) == {1.0}
    windowed = rank_nouns(cooccurrence_graph([nouns], window=2))
    assert len(set(windowed.values())) > 1


# --- extract_keywords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segments",
    [[], [(1, "")], [(1, "   \n ")], [(1, "음... 네.")], [(1, "오늘은 여러분 것 수 때.")]],
    ids=["empty", "blank", "whitespace", "filler", "stopwords only"],
)
def test_inputs_without_nouns_give_no_keywords(segments: list[tuple[int, str]]) -> None:
    assert extract_keywords(segments) == []


def test_a_single_noun_is_the_single_keyword() -> None:
    assert extract_keywords([(7, "알고리즘.")]) == [
        Keyword("알고리즘", 1.0, 1, [Occurrence(7, 0, 4)])
    ]


def test_one_sentence_ranks_its_nouns() -> None:
    keywords = extract_keywords([(1, "탐색 알고리즘은 그래프의 노드를 방문합니다.")])
    # Said once, "탐색 알고리즘" is not glued: its words are terms of their own.
    assert {k.text for k in keywords} == {"탐색", "알고리즘", "그래프", "노드", "방문"}
    assert keywords[0].score == 1.0
    assert [k.score for k in keywords] == sorted((k.score for k in keywords), reverse=True)


def test_top_limits_the_result_and_bad_arguments_are_refused() -> None:
    lecture = synthetic_lecture(60)
    assert len(extract_keywords(lecture, top=3)) == 3
    with pytest.raises(ValueError):
        extract_keywords(lecture, top=0)
    with pytest.raises(ValueError):
        extract_keywords(lecture, window=1)


def test_occurrences_point_at_the_right_characters(analyzer: Analyzer) -> None:
    segments = [(3, PARAGRAPH), (9, "그래서 인공 지능은 탐색에서 시작했어요.")]
    texts = dict(segments)
    keywords = extract_keywords(segments, analyzer=analyzer, top=50)
    assert keywords
    for keyword in keywords:
        assert keyword.count == len(keyword.occurrences)
        for seq, start, end in keyword.occurrences:
            assert squash(texts[seq][start:end]) == keyword.text
    ai = next(k for k in keywords if k.text == "인공지능")
    assert Occurrence(9, 4, 9) in ai.occurrences
    assert texts[9][4:9] == "인공 지능"


def test_the_ranking_is_deterministic() -> None:
    segments = [(1, "트리. 그래프. 트리. 노드. 그래프. 트리. 간선.")]
    first = extract_keywords(segments)
    assert first == extract_keywords(segments)
    assert [k.score for k in first] == sorted((k.score for k in first), reverse=True)
    assert {k.text: k.count for k in first}["트리"] == 3


def test_extraction_is_deterministic(analyzer: Analyzer) -> None:
    lecture = synthetic_lecture(200, seed=3)
    first = extract_keywords(lecture, analyzer=analyzer, top=30)
    assert extract_keywords(lecture, analyzer=analyzer, top=30) == first
    ranked = [(-k.score, -k.count, k.text) for k in first]
    assert ranked == sorted(ranked)


def test_kiwi_and_okt_both_run_on_the_same_paragraph() -> None:
    okt = okt_or_skip()
    segments = [(1, PARAGRAPH)]
    by_kiwi = extract_keywords(segments, analyzer="kiwi", top=5)
    by_okt = extract_keywords(segments, analyzer=okt, top=5)
    assert by_kiwi[0].score == by_okt[0].score == 1.0
    kiwi_terms = {k.text for k in by_kiwi}
    okt_terms = {k.text for k in by_okt}
    assert {"인공지능", "기계학습"} <= kiwi_terms
    assert {"인공지능", "기계학습"} <= okt_terms


def test_okt_reports_a_missing_java_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a JVM (simulated: konlpy cannot be imported) Okt fails with a clear message,
    and the failure is remembered: a JVM can never be restarted in the same process."""
    monkeypatch.setattr(korean, "_okt", None)  # restored afterwards, even if Okt had started
    monkeypatch.setattr(korean, "_okt_error", None)
    monkeypatch.setitem(sys.modules, "konlpy.tag", None)  # `import` now raises ImportError
    with pytest.raises(AnalyzerUnavailable, match="needs a Java runtime"):
        get_analyzer("okt").load()
    monkeypatch.delitem(sys.modules, "konlpy.tag")
    with pytest.raises(AnalyzerUnavailable, match="needs a Java runtime"):
        get_analyzer("okt").nouns("인공지능")


@pytest.fixture(scope="module")
def long_lecture() -> list[tuple[int, str]]:
    return synthetic_lecture(1200)


def test_a_1200_sentence_lecture(analyzer: Analyzer, long_lecture: list[tuple[int, str]]) -> None:
    assert sum(len(analyzer.sentences(text)) for _, text in long_lecture[:50]) >= 50
    keywords = extract_keywords(long_lecture, analyzer=analyzer, top=10)
    assert len(keywords) == 10
    assert keywords[0].score == 1.0
    assert all(a.score >= b.score for a, b in itertools.pairwise(keywords))
    found = {k.text for k in keywords}
    assert {"인공지능", "기계학습"} & found
    assert not found & KOREAN_STOPWORDS
    texts = dict(long_lecture)
    for keyword in keywords:
        for seq, start, end in keyword.occurrences:
            assert squash(texts[seq][start:end]) == keyword.text


def test_english_plurals_are_one_term_with_their_singular() -> None:
    from ml.korean import english_singular

    assert [english_singular(w) for w in ("networks", "libraries", "classes", "batches")] == [
        "network",
        "library",
        "class",
        "batch",
    ]
    assert [english_singular(w) for w in ("loss", "bus", "analysis", "gpus2", "was")] == [
        "loss",
        "bus",
        "analysis",
        "gpus2",
        "was",
    ]
    segments = [(1, "Neural networks learn."), (2, "A network has layers."), (3, "network")]
    counts = {k.text: k.count for k in extract_keywords(segments, top=10)}
    assert counts["network"] == 3
