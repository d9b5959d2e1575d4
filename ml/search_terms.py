"""Search terms of caption text: what a segment is indexed under, what a query asks for, and
where a result is highlighted. One analysis serves all three, so they always agree.

A text becomes a sequence of *terms*, each with the span of the text it came from:

- **Korean content morphemes** from Kiwi: nouns (NNG, NNP), numerals (NR), roots (XR), Hanja
  (SH), and verb and adjective stems as Kiwi's base form (VV, VA: 배웁니다 -> 배우, 들었다 -> 듣).
  Particles and endings are dropped, so 수업을 is indexed as 수업. A noun suffix joins its noun
  (최적 + 화 -> 최적화, and the bare 최적 is kept too), except the plural 들. The commonest
  stems (하, 되, 있, 없, ...) carry no meaning of their own and are dropped.
- **English words and numbers** by a regular expression (Kiwi splits "learning." into "learn" and
  "ing."): ASCII letter or digit runs, lower-cased, regular plurals reduced to the singular
  (gradients -> gradient, queries -> query, classes -> class). No other stemming. English
  function words and lone letters are dropped.
- **Compound nouns**, both ways: adjacent nouns with no gap or one space between them (an
  English word may join a Korean noun, never another English word) give every atom *and* each
  joined run of two or more, so "인공 지능" is indexed as 인공, 지능, 인공지능, and Kiwi's
  "경사 하강 법" split of 경사하강법 as 경사, 하강, 법, 경사하강, 하강법, 경사하강법.

A query is analysed the same way into groups, one per compound run: a group matches a segment
holding all of its atoms, or the joined compound. Every group must match (strict AND). So 인공지능
finds "인공 지능" and "인공지능", and "인공 지능" finds both as well.

Terms contain no white space; `index_terms` joins them with single spaces and pads the result
with one space on each side (" 수업 시작 "), so a term is found by a LIKE over " term " and an
empty string can mean "not indexed yet". Nothing here imports Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ml.korean import kiwi_tokenize

__all__ = [
    "MAX_COMPOUND_PARTS",
    "QueryTerm",
    "Term",
    "analyse",
    "analyse_many",
    "english_term",
    "highlight_spans",
    "highlight_spans_many",
    "index_terms",
    "index_terms_many",
    "query_terms",
]

# Longer noun runs still give their atoms and the whole run, but no sub-runs longer than this.
MAX_COMPOUND_PARTS = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOUN_TAGS = frozenset({"NNG", "NNP", "NR", "SH"})
_OTHER_CONTENT_TAGS = frozenset({"XR", "VV", "VA"})
_SUFFIX_TAG = "XSN"
_DETACHED_SUFFIXES = frozenset({"들"})
_EMPTY_STEMS = _words(
    "하 되 있 없 않 같 그렇 이렇 저렇 어떻 아니 말 주 보 지 싶 오 가 나 두 받 드리"
)
_ENGLISH_FUNCTION_WORDS = _words(
    """
    about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either etc
    for from further had has have having he her here hers herself him himself his how if in
    into is it its itself just me my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up upon very was
    we were what when where whether which while who whom whose why will with would yet you
    your yours yourself yourselves don doesn didn isn aren wasn weren won ll ve re
    """
)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_WORD_PARTS = re.compile(r"[^\W_]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass(frozen=True, slots=True)
class Term:
    """One search term of a text and the span of the text it stands for."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One group of a query: matches a segment holding every atom, or the joined compound."""

    atoms: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.atoms)

    @property
    def words(self) -> tuple[str, ...]:
        """Every term this group can match, for highlighting."""
        return (*self.atoms, self.joined) if len(self.atoms) > 1 else self.atoms


@dataclass(frozen=True, slots=True)
class _Atom:
    text: str
    start: int
    end: int
    noun: bool  # may join a compound
    latin: bool = False
    extra: bool = False  # indexed, but neither asked for by a query nor part of a compound


def english_term(word: str) -> str:
    """Lower case, and a regular plural reduced to its singular."""
    term = word.lower()
    if len(term) <= 3 or not term.isalpha():
        return term
    if term.endswith("ies") and len(term) > 4:
        return term[:-3] + "y"
    if term.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return term[:-2]
    if term.endswith("s") and not term.endswith(("ss", "us", "is", "ias")):
        return term[:-1]
    return term


def _latin_atoms(text: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for match in _ASCII_WORD.finditer(text):
        word = match.group()
        if word.isdigit():
            atoms.append(_Atom(word, match.start(), match.end(), noun=False, latin=True))
            continue
        term = english_term(word)
        if len(term) < 2 or term in _ENGLISH_FUNCTION_WORDS:
            continue
        atoms.append(_Atom(term, match.start(), match.end(), noun=True, latin=True))
    return atoms


def _hangul_atoms(text: str, tokens: Iterable[Any]) -> list[_Atom]:
    atoms: list[_Atom] = []
    for token in tokens:
        start, end = token.start, token.start + token.len
        tag = str(token.tag).split("-")[0]  # VV-I, VA-R: irregular stems
        form = str(token.form)
        if not (_HANGUL.search(form) or tag == "SH"):
            continue
        if tag == _SUFFIX_TAG:
            last = atoms[-1] if atoms else None
            if last and last.noun and last.end == start and form not in _DETACHED_SUFFIXES:
                # 최적 + 화: the noun stays indexed on its own, the joined word takes its place.
                atoms[-1] = _Atom(last.text, last.start, last.end, noun=False, extra=True)
                atoms.append(_Atom(last.text + form, last.start, end, noun=True))
            continue
        if tag in _NOUN_TAGS:
            parts = _WORD_PARTS.findall(form)  # Kiwi's NNP "자연어 처리" for 자연어처리
            for part in parts:
                atoms.append(_Atom(part, start, end, noun=True))
        elif tag in _OTHER_CONTENT_TAGS and form not in _EMPTY_STEMS:
            atoms.append(_Atom(form, start, end, noun=False))
    return atoms


def _joins(text: str, left: _Atom, right: _Atom) -> bool:
    if not (left.noun and right.noun) or (left.latin and right.latin):
        return False
    if left.start == right.start:  # the parts of one multi-word token
        return True
    return text[left.end : right.start] in ("", " ")


def _atoms(text: str, tokens: Iterable[Any]) -> list[_Atom]:
    hangul = _hangul_atoms(text, tokens)
    return sorted([*hangul, *_latin_atoms(text)], key=lambda atom: (atom.start, atom.end))


def _runs(text: str, atoms: Iterable[_Atom]) -> Iterator[tuple[_Atom, list[_Atom]]]:
    """Each atom with the compound run it ends (empty for an atom that is not a noun)."""
    run: list[_Atom] = []
    for atom in atoms:
        if atom.extra:
            yield atom, []
            continue
        if run and not _joins(text, run[-1], atom):
            run = []
        if atom.noun:
            run.append(atom)
            yield atom, list(run)
        else:
            run = []
            yield atom, []


def _terms(text: str, tokens: Iterable[Any]) -> list[Term]:
    terms: list[Term] = []
    for atom, run in _runs(text, _atoms(text, tokens)):
        terms.append(Term(atom.text, atom.start, atom.end))
        # Every joined run of 2..MAX parts ending here, and the whole run at any length.
        for first in range(len(run) - 2, -1, -1):
            parts = run[first:]
            if len(parts) > MAX_COMPOUND_PARTS and first != 0:
                continue
            terms.append(Term("".join(a.text for a in parts), parts[0].start, atom.end))
    return terms


def analyse(text: str) -> list[Term]:
    """The text's search terms in order (compounds right after their last part)."""
    if not text.strip():
        return []
    return _terms(text, kiwi_tokenize(text))


def analyse_many(texts: Sequence[str]) -> list[list[Term]]:
    """`analyse` for many texts at once (Kiwi spreads them over its worker threads)."""
    all_tokens = kiwi_tokenize(texts)
    return [_terms(text, tokens) for text, tokens in zip(texts, all_tokens, strict=True)]


def _padded(terms: Sequence[Term]) -> str:
    return f" {' '.join(term.text for term in terms)} " if terms else " "


def index_terms(text: str) -> str:
    """What a segment is stored under: " term term ... " (just " " for a text without terms)."""
    return _padded(analyse(text))


def index_terms_many(texts: Sequence[str]) -> list[str]:
    return [_padded(terms) for terms in analyse_many(texts)]


def query_terms(query: str) -> list[QueryTerm]:
    """The groups a query asks for, all required; empty when it holds no searchable word."""
    if not query.strip():
        return []
    groups: list[QueryTerm] = []
    current: list[_Atom] = []
    for atom, run in _runs(query, _atoms(query, kiwi_tokenize(query))):
        if atom.extra:
            continue
        if current and (not run or run[0] is not current[0]):
            groups.append(QueryTerm(tuple(a.text for a in current)))
        current = run if run else []
        if not run:
            groups.append(QueryTerm((atom.text,)))
    if current:
        groups.append(QueryTerm(tuple(a.text for a in current)))
    return list(dict.fromkeys(groups))


def highlight_spans(text: str, terms: Sequence[QueryTerm]) -> list[tuple[int, int]]:
    """Spans of `text` to highlight for a query's terms, merged, in order: for 수업 in
    "수업을 시작" (0, 2); for 인공지능 in "인공 지능" (0, 5); for gradient in "Gradients" (0, 9)."""
    return highlight_spans_many([text], terms)[0]


def highlight_spans_many(
    texts: Sequence[str], terms: Sequence[QueryTerm]
) -> list[list[tuple[int, int]]]:
    """`highlight_spans` for many texts. Cheap first: English words as the indexer finds them,
    Korean words as substrings (a compound also with a space at any joint). Only a text in
    which some group is not found that way (a verb stem: 배우 in 배웁니다; a one-syllable noun)
    is analysed by Kiwi, whose offsets are exact."""
    words = {word for term in terms for word in term.words}
    results: list[list[tuple[int, int]] | None] = [_cheap_spans(text, terms) for text in texts]
    missing = [n for n, spans in enumerate(results) if spans is None]
    if missing:
        analysed = analyse_many([texts[n] for n in missing])
        for n, text_terms in zip(missing, analysed, strict=True):
            results[n] = [(t.start, t.end) for t in text_terms if t.text in words]
    return [_merge(spans or []) for spans in results]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@functools.lru_cache(maxsize=256)
def _loose(word: str) -> re.Pattern[str]:
    """The word with an optional space between any two letters (인공지능 in "인공 지능")."""
    return re.compile("[ ]?".join(re.escape(char) for char in word), re.IGNORECASE)


def _cheap_spans(text: str, terms: Sequence[QueryTerm]) -> list[tuple[int, int]] | None:
    """Highlights without Kiwi, or None when some group cannot be found that way."""
    spans: list[tuple[int, int]] = []
    latin: dict[str, list[tuple[int, int]]] = {}
    for match in _ASCII_WORD.finditer(text):
        latin.setdefault(english_term(match.group()), []).append(match.span())
    for term in terms:
        found_all = True
        for atom in term.atoms:
            if atom in latin:
                spans.extend(latin[atom])
            elif _HANGUL.search(atom) and len(atom) > 1 and atom in text:
                spans.extend((m.start(), m.end()) for m in re.finditer(re.escape(atom), text))
            else:
                found_all = False
        if len(term.atoms) > 1:
            joined = [(m.start(), m.end()) for m in _loose(term.joined).finditer(text)]
            spans.extend(joined)
            found_all = found_all or bool(joined)
        if not found_all:
            return None
    return spans
