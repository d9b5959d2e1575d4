"""Nouns of Korean (and English) lecture text, with their character spans, for keywords.

Two morphological analysers sit behind one small `Analyzer` protocol:

- **Kiwi** (kiwipiepy, the default): ships its model inside the PyPI package, fast, clean noun tags,
  and its own sentence splitter (`Kiwi.split_into_sents`).
- **Okt** (konlpy's Open Korean Text, the original project's analyser): selectable. It runs in a
  JVM that konlpy starts once per process and that can never be restarted, so it is loaded lazily,
  once, under a lock. Okt has no sentence splitter; sentences end at `.`, `?`, `!` (and the like)
  followed by white space, or at a line break.

Both give the same kind of result, built by shared code from the analyser's Hangul noun tokens:

- **Compound nouns are joined.** Adjacent nouns with no gap or a single space between them (no
  punctuation, no particle, no line break) become one term with the spaces dropped:
  "인공 지능" and "인공지능" both give "인공지능"; Kiwi's "경사 하강 법" gives "경사하강법".
  A noun suffix attached to a noun joins it ("최적" + "화" -> "최적화"), except the plural "들"
  and the adjectival "적". The span of a term runs from its first to its last character in the
  original text, spaces included.
- **English words** (any run of Latin letters, found by a regular expression, not by the analyser:
  Kiwi splits "learning." oddly) are kept as nouns, lower-cased, plurals folded to the singular
  ("networks" -> "network", `english_singular`), without English stopwords. A Latin
  word joins an adjacent Korean noun ("GPU 메모리" -> "gpu메모리") but never another Latin word: an
  English sentence has no part-of-speech tags here, so joining would glue whole clauses together.
- **Stopwords** (lecture filler such as 것, 수, 오늘, 여러분, 시간, 질문; English function words and
  filler) are removed before joining, so "오늘 인공지능" gives "인공지능", not "오늘인공지능".
- **One-character terms are dropped** unless listed in `ONE_CHARACTER_NOUNS` (큐, 힙, 값, 뇌 …).
  A one-character noun outside that list joins a neighbour only with no gap ("딥" + "러닝"), never
  across a space (Okt's "그 알고리즘" stays "알고리즘").

Nothing here imports Django.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

__all__ = [
    "ANALYZER_NAMES",
    "ENGLISH_STOPWORDS",
    "KOREAN_STOPWORDS",
    "ONE_CHARACTER_NOUNS",
    "Analyzer",
    "AnalyzerUnavailable",
    "KiwiAnalyzer",
    "Noun",
    "OktAnalyzer",
    "Sentence",
    "get_analyzer",
    "kiwi_sentence_spans",
    "kiwi_tokenize",
]

ANALYZER_NAMES: tuple[str, ...] = ("kiwi", "okt")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Lecture filler and function nouns: never a keyword, and never part of a compound.
KOREAN_STOPWORDS: frozenset[str] = _words(
    """
    것 수 때 등 거 곳 중 번 분 개 명
    이번 저번 지난번 다음 다음번 오늘 어제 내일 요즘 지금 이제 나중 처음 마지막 끝
    여러분 우리 저희 제가 나 너 저 제 그 이 자기 자신 본인 누구 무엇 뭐 어디 언제
    이것 그것 저것 이거 그거 저거 요거 이건 그건 여기 거기 저기 이곳 그곳
    부분 정도 경우 생각 이야기 얘기 말 말씀 시간 질문 대답 내용 설명 정리 예 예시 예제
    강의 수업 학생 교수 교수님 선생님 시험 과제 슬라이드 페이지 그림
    때문 가지 하나 둘 셋 모두 전부 각각 자체 관련 사실 정말 진짜 그냥 좀 잠깐 잠시 한번
    사용 이용 진행 확인
    대해 통해 위해 의해 인해 관해 대한 위한 통한 의한 관한
    네 아 음 어 자 응
    """
)

# English function words and lecture filler (lower case).
ENGLISH_STOPWORDS: frozenset[str] = _words(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each either else etc even ever every few for from further
    get gets getting got had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's however i i'd i'll i'm i've if in into is
    isn't it it's its itself just let let's lets like may maybe me might more most much must
    mustn't my myself neither no nor not now of off on once one only or other ought our ours
    ourselves out over own per quite rather really same shall shan't she she'd she'll she's
    should shouldn't since so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those though through thus to
    too under until up upon us very via was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's whether which while who who's whom whose why why's will
    with within without won't would wouldn't yet you you'd you'll you're you've your yours
    yourself yourselves
    okay ok yeah yes yep um uh uhm hmm oh well right actually basically really gonna wanna
    thing things stuff lot lots kind sort way today lecture lectures class question questions
    answer time times going go goes went know see say says said look looks use used using make
    makes made want wants need needs first second next last two three example examples slide
    slides everyone everybody guys student students professor
    """
)

# One-character nouns that are real terms (lecture topics); every other one-character noun is
# dropped when it stands alone.
ONE_CHARACTER_NOUNS: frozenset[str] = _words(
    """
    뇌 힘 값 빛 열 행 물 불 돈 땅 피 뼈 키 큐 힙 덱 층 점 선 면 축 식 합 곱 근 법
    표 색 맛 책 글 꿈 잎 별 달 흙 돌 꽃 혀 눈 귀 코 입 손 발 몸 털 숲 섬 빵 쌀 술 약 병 암
    """
)

# Noun suffixes that never join their noun: the plural and the adjectival "-적" (효율적 -> 효율).
_DETACHED_SUFFIXES: frozenset[str] = frozenset({"들", "적"})

_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019-][A-Za-z0-9]+)*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# The end of a sentence inside a text: terminal punctuation (and closing quotes or brackets)
# followed by white space, or a line break.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+|\s*\n\s*")
_WHITESPACE = re.compile(r"\s+")


class AnalyzerUnavailable(RuntimeError):
    """The analyser cannot run here (Okt without a Java runtime, for instance)."""


@dataclass(frozen=True, slots=True)
class Noun:
    """One noun (or compound noun) of a text: the normalised term and its span in that text."""

    text: str
    start: int
    end: int
    # A compound written with spaces ("인공 지능"): its words, each (term, start, end); empty for
    # a term written as one word. Keywords glue such a compound only when it recurs.
    words: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a text (span in that text) with its nouns in order."""

    start: int
    end: int
    nouns: tuple[Noun, ...]


class Analyzer(Protocol):
    """A Korean morphological analyser reduced to what keywords need: sentences and nouns."""

    @property
    def name(self) -> str: ...

    def load(self) -> None:
        """Load the model and warm it up now (otherwise the first analysis does); cheap when
        already loaded."""
        ...

    def sentences(self, text: str) -> list[Sentence]:
        """The text's sentences, each with its nouns (spans relative to `text`)."""
        ...

    def nouns(self, text: str) -> list[Noun]:
        """All nouns of the text in order (spans relative to `text`); compounds never cross
        sentences."""
        ...


PieceKind = Literal["noun", "suffix", "latin"]


class _Piece(NamedTuple):
    start: int
    end: int
    kind: PieceKind


def _has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def _regex_sentence_spans(
    text: str, start: int = 0, end: int | None = None, *, breaks: bool = True
) -> list[tuple[int, int]]:
    """Split text[start:end] at sentence breaks (with `breaks`; else only trim it); spans are
    trimmed of white space, none empty."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_BREAK.finditer(text, start, end) if breaks else ():
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def _latin_pieces(text: str, start: int, end: int) -> list[_Piece]:
    return [_Piece(m.start(), m.end(), "latin") for m in _LATIN_WORD.finditer(text, start, end)]


def _latin_term(word: str) -> str:
    term = word.lower().replace("\u2019", "'")
    if term.endswith("'s"):
        term = term[:-2]
    return english_singular(term)


def english_singular(term: str) -> str:
    """An English plural folded to its singular, so "networks" and "network" are one keyword:
    -ies -> -y, -sses/-ches/-shes/-xes lose "es", another final -s (not -ss, -us, -is) is
    dropped; words of 3 letters or fewer and acronyms with digits are kept."""
    if len(term) <= 3 or not term.isalpha():
        return term
    if term.endswith("ies") and len(term) > 4:
        return term[:-3] + "y"
    if term.endswith(("sses", "ches", "shes", "xes")):
        return term[:-2]
    if term.endswith("s") and not term.endswith(("ss", "us", "is")):
        return term[:-1]
    return term


def _surface(text: str, piece: _Piece) -> str:
    raw = text[piece.start : piece.end]
    if piece.kind == "latin":
        return _latin_term(raw)
    return _WHITESPACE.sub("", raw)


def _is_stopword(surface: str, kind: PieceKind) -> bool:
    if kind == "latin":
        return surface in ENGLISH_STOPWORDS
    return surface in KOREAN_STOPWORDS


def _is_short(surface: str, kind: PieceKind) -> bool:
    """A one-character noun that is not a term by itself (it joins only with no gap)."""
    return kind == "noun" and len(surface) == 1 and surface not in ONE_CHARACTER_NOUNS


def _compound(text: str, pieces: Sequence[_Piece]) -> list[Noun]:
    """Join adjacent pieces of one sentence into terms and filter them (see the module's doc)."""
    runs: list[list[tuple[_Piece, str]]] = []
    for piece in pieces:
        surface = _surface(text, piece)
        if not surface:
            continue
        last = runs[-1][-1] if runs else None
        gap = text[last[0].end : piece.start] if last is not None else None
        if piece.kind == "suffix":
            # A suffix joins the noun it is attached to, or is dropped.
            if (
                last is not None
                and gap == ""
                and last[0].kind != "latin"
                and surface not in _DETACHED_SUFFIXES
            ):
                runs[-1].append((piece, surface))
            continue
        if _is_stopword(surface, piece.kind):
            continue
        joins = (
            last is not None
            and (gap == "" or gap == " ")
            and not (piece.kind == "latin" and last[0].kind == "latin")
            and (
                gap == ""
                or not (_is_short(surface, piece.kind) or _is_short(last[1], last[0].kind))
            )
        )
        if joins:
            runs[-1].append((piece, surface))
        else:
            runs.append([(piece, surface)])
    nouns: list[Noun] = []
    for run in runs:
        term = "".join(surface for _, surface in run)
        if len(run) == 1 and run[0][0].kind == "latin":
            keep = len(term) > 1 and term not in ENGLISH_STOPWORDS
        else:
            keep = (len(term) > 1 or term in ONE_CHARACTER_NOUNS) and term not in KOREAN_STOPWORDS
        if keep:
            nouns.append(Noun(term, run[0][0].start, run[-1][0].end, _spaced_words(text, run)))
    return nouns


def _spaced_words(text: str, run: Sequence[tuple[_Piece, str]]) -> tuple[tuple[str, int, int], ...]:
    """The words of a run joined across spaces, each (term, start, end); () for one word."""
    words: list[list[tuple[_Piece, str]]] = [[run[0]]]
    for previous, current in itertools.pairwise(run):
        if text[previous[0].end : current[0].start]:
            words.append([current])
        else:
            words[-1].append(current)
    if len(words) == 1:
        return ()
    return tuple(
        ("".join(surface for _, surface in word), word[0][0].start, word[-1][0].end)
        for word in words
    )


def _build_sentences(
    text: str, spans: Sequence[tuple[int, int]], hangul: Sequence[_Piece]
) -> list[Sentence]:
    """Sentences from their spans and the analyser's Hangul pieces (Latin words found here)."""
    ordered = sorted(hangul)
    starts = [piece.start for piece in ordered]
    sentences: list[Sentence] = []
    for start, end in spans:
        first = bisect.bisect_left(starts, start)
        last = bisect.bisect_left(starts, end)
        inside = [p for p in ordered[first:last] if p.end <= end]
        merged: list[_Piece] = []
        for piece in sorted([*inside, *_latin_pieces(text, start, end)]):
            if merged and piece.start < merged[-1].end:
                continue  # overlaps an earlier piece: keep the first
            merged.append(piece)
        sentences.append(Sentence(start, end, tuple(_compound(text, merged))))
    return sentences


class _BaseAnalyzer:
    """Shared plumbing: subclasses give sentence spans and Hangul noun/suffix pieces."""

    name = "base"

    def load(self) -> None:
        raise NotImplementedError

    def _analyse(self, text: str) -> tuple[list[tuple[int, int]], list[_Piece]]:
        raise NotImplementedError

    def sentences(self, text: str) -> list[Sentence]:
        if not text.strip():
            return []
        spans, pieces = self._analyse(text)
        return _build_sentences(text, spans, pieces)

    def nouns(self, text: str) -> list[Noun]:
        return [noun for sentence in self.sentences(text) for noun in sentence.nouns]


# --- Kiwi ---------------------------------------------------------------------------------------

_KIWI_NOUN_TAGS = frozenset({"NNG", "NNP"})
_KIWI_SUFFIX_TAGS = frozenset({"XSN"})
_kiwi_lock = threading.Lock()
_kiwi: Any = None


def _load_kiwi() -> Any:
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi  # type: ignore[import-untyped]

            kiwi = Kiwi()
            kiwi.tokenize("인공지능을 배웁니다.")  # the model's tables fill in on first use
            _kiwi = kiwi
        return _kiwi


def kiwi_tokenize(text: str | Sequence[str]) -> Any:
    """Kiwi's tokens of a text, or a list of token lists for several texts (Kiwi spreads those
    over its threads), from the process's one Kiwi; calls into it are serialized."""
    kiwi = _load_kiwi()
    with _kiwi_lock:
        if isinstance(text, str):
            return kiwi.tokenize(text)
        return list(kiwi.tokenize(list(text)))  # a generator: drained under the lock


def kiwi_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of `text`: Kiwi's splitter (it ends a sentence at a final ending such as
    "-습니다" or "-어요" even without punctuation, and keeps a quotation together); a mostly
    English sentence is split again at terminal punctuation followed by white space (Kiwi keeps
    English sentences together). Spans are trimmed, none empty."""
    if not text.strip():
        return []
    kiwi = _load_kiwi()
    with _kiwi_lock:
        kiwi_sentences = kiwi.split_into_sents(text)
    spans: list[tuple[int, int]] = []
    for sentence in kiwi_sentences:
        piece = text[sentence.start : sentence.end]
        if len(_HANGUL.findall(piece)) * 2 >= sum(ch.isalpha() for ch in piece):
            # Korean: Kiwi's split stands (it keeps a quotation, "여보게들. …", together).
            spans.extend(_regex_sentence_spans(text, sentence.start, sentence.end, breaks=False))
        else:
            spans.extend(_regex_sentence_spans(text, sentence.start, sentence.end))
    return spans


class KiwiAnalyzer(_BaseAnalyzer):
    """kiwipiepy: nouns NNG/NNP, noun suffixes XSN; sentences from `split_into_sents`, then
    split again at terminal punctuation followed by white space (Kiwi keeps English sentences
    together)."""

    name = "kiwi"

    def load(self) -> None:
        _load_kiwi()

    def _analyse(self, text: str) -> tuple[list[tuple[int, int]], list[_Piece]]:
        kiwi = _load_kiwi()
        with _kiwi_lock:
            kiwi_sentences = kiwi.split_into_sents(text, return_tokens=True)
        spans: list[tuple[int, int]] = []
        pieces: list[_Piece] = []
        for sentence in kiwi_sentences:
            spans.extend(_regex_sentence_spans(text, sentence.start, sentence.end))
            for token in sentence.tokens:
                start, end = token.start, token.start + token.len
                if not _has_hangul(text[start:end]):
                    continue
                if token.tag in _KIWI_NOUN_TAGS:
                    pieces.append(_Piece(start, end, "noun"))
                elif token.tag in _KIWI_SUFFIX_TAGS:
                    pieces.append(_Piece(start, end, "suffix"))
        return spans, pieces


# --- Okt (konlpy, JVM) --------------------------------------------------------------------------

_okt_lock = threading.Lock()
_okt: Any = None
_okt_error: str | None = None


def _load_okt() -> Any:
    """The process's one Okt, started on first use. A JVM cannot be restarted: if starting it
    failed once, every later call fails the same way."""
    global _okt, _okt_error
    with _okt_lock:
        if _okt is None:
            if _okt_error is not None:
                raise AnalyzerUnavailable(_okt_error)
            try:
                from konlpy.tag import Okt  # type: ignore[import-untyped]

                okt = Okt()
                okt.pos("인공지능을 배웁니다.")  # loads Okt's dictionaries into the JVM
                _okt = okt
            except Exception as error:  # JVMNotFoundException, ImportError, OSError, ...
                _okt_error = (
                    "konlpy's Okt needs a Java runtime (install a JDK, e.g. Debian's "
                    f"openjdk-17-jre-headless, or set JAVA_HOME): {type(error).__name__}: {error}"
                )
                raise AnalyzerUnavailable(_okt_error) from error
        return _okt


class OktAnalyzer(_BaseAnalyzer):
    """konlpy's Okt (no normalisation, no stemming, so every token is a substring of the text):
    nouns tagged Noun, suffixes Suffix; sentences split by punctuation and line breaks."""

    name = "okt"

    def load(self) -> None:
        _load_okt()

    def _analyse(self, text: str) -> tuple[list[tuple[int, int]], list[_Piece]]:
        okt = _load_okt()
        with _okt_lock:
            tagged: list[tuple[str, str]] = okt.pos(text, norm=False, stem=False)
        pieces: list[_Piece] = []
        cursor = 0
        for form, tag in tagged:
            start = text.find(form, cursor)
            if start < 0:
                continue  # not a substring (should not happen without normalisation)
            end = start + len(form)
            cursor = end
            if tag == "Noun" and _has_hangul(form):
                pieces.append(_Piece(start, end, "noun"))
            elif tag == "Suffix" and _has_hangul(form):
                pieces.append(_Piece(start, end, "suffix"))
        return _regex_sentence_spans(text), pieces


_ANALYZERS: dict[str, _BaseAnalyzer] = {"kiwi": KiwiAnalyzer(), "okt": OktAnalyzer()}


def get_analyzer(name: str) -> Analyzer:
    """The process's analyser of that name ("kiwi" or "okt"); its model loads on first use."""
    try:
        return _ANALYZERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"Unknown analyzer {name!r}: choose one of {', '.join(ANALYZER_NAMES)}"
        ) from None
