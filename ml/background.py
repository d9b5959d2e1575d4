"""How common a term is in Korean in general, and in a course: the background keywords are
weighed against.

**General Korean: Kiwi's language model.** kiwipiepy ships, inside its PyPI package
(`kiwipiepy_model`, Apache-2.0), a language model trained on a large general Korean corpus; Kiwi
gives every morpheme of an analysis its log-probability in context (`Token.score`). A term's
background log-probability is the median, over a few neutral contexts ("{term}", "그 {term}",
"이러한 {term}", "중요한 {term}", "새로운 {term}", "모든 {term}", "우리의 {term}"), of the summed
scores of its noun morphemes. The median keeps one odd context (a noun that rarely opens a
sentence) from deciding. Measured: 사람 -5.4, 부분 -5.9, 경우 -7.0, 이상 -7.8, 사항 -8.1, 필요
-8.7 (everyday, function-like nouns) against 윤회 -12.5, 해탈 -13.3, 신경망 -14.1 (topics). No
list of "generic" nouns is needed: a noun is generic in as much as the language model expects it.
English (Latin) terms get a fixed `LATIN_LOG_PROB` (Kiwi's model is Korean).

**Written Korean: konlpy's corpora.** konlpy (GPL-3.0; its corpora: the ten bills of `kobill`,
public documents of the National Assembly, and the Constitution in `kolaw`, a public work free of
copyright under Article 7 of the Korean Copyright Act) ships eleven documents of formal written
Korean. The nouns found in most of them (이하, 이상, 사항, 필요, 발생, 경우: the vocabulary of
any formal text) get a low inverse document frequency (`written_korean_frequencies`).

**A course: document frequencies.** `DocumentFrequencies` counts in how many of the course's
other lectures each term occurs; a term in all of them (this course's 사람, 문제, 모델) weighs
less, as in TF-IDF.

Values are cached per process (a term's log-probability never changes). Nothing here imports
Django.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ml.korean import get_analyzer, kiwi_tokenize

__all__ = [
    "CONTEXTS",
    "LATIN_LOG_PROB",
    "DocumentFrequencies",
    "combined_idf",
    "general_log_prob",
    "general_log_probs",
    "is_function_like",
    "written_korean_frequencies",
]

CONTEXTS = ("{}", "그 {}", "이러한 {}", "중요한 {}", "새로운 {}", "모든 {}", "우리의 {}")
# A Latin-letter term: Kiwi's model knows Korean; English terms in a Korean lecture are rare in
# general Korean (about as rare as a technical Korean noun).
LATIN_LOG_PROB = -12.0
_NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "XSN", "XR", "SL", "SN", "SH"})

_cache: dict[str, float] = {}
_cache_lock = threading.Lock()


def _is_latin(term: str) -> bool:
    return term.isascii()


def general_log_probs(terms: Iterable[str]) -> dict[str, float]:
    """Background log-probability (natural log) of each term in general Korean (module doc)."""
    wanted = sorted({t for t in terms if t})
    with _cache_lock:
        missing = [t for t in wanted if t not in _cache]
    if missing:
        korean = [t for t in missing if not _is_latin(t)]
        texts = [context.format(term) for term in korean for context in CONTEXTS]
        analyses = kiwi_tokenize(texts) if texts else []
        computed: dict[str, float] = {t: LATIN_LOG_PROB for t in missing if _is_latin(t)}
        for number, term in enumerate(korean):
            values: list[float] = []
            for offset, context in enumerate(CONTEXTS):
                text = texts[number * len(CONTEXTS) + offset]
                at = context.index("{}")
                tokens = analyses[number * len(CONTEXTS) + offset]
                scores = [
                    float(token.score)
                    for token in tokens
                    if token.start >= at and token.tag in _NOUN_TAGS
                ]
                if scores and text:
                    values.append(sum(scores))
            computed[term] = statistics.median(values) if values else LATIN_LOG_PROB
        with _cache_lock:
            _cache.update(computed)
    with _cache_lock:
        return {t: _cache[t] for t in wanted}


def general_log_prob(term: str) -> float:
    return general_log_probs([term])[term]


@dataclass(frozen=True)
class DocumentFrequencies:
    """In how many of `documents` other texts (a course's other lectures) each term occurs."""

    documents: int = 0
    frequencies: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_term_sets(cls, term_sets: Iterable[Iterable[str]]) -> DocumentFrequencies:
        counts: dict[str, int] = {}
        documents = 0
        for terms in term_sets:
            documents += 1
            for term in set(terms):
                counts[term] = counts.get(term, 0) + 1
        return cls(documents, counts)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency, 1.0 with no documents; ln((N + 1) / (df + 1)) + 1
        otherwise (a term in every other lecture: about 1; in none: 1 + ln(N + 1))."""
        if self.documents == 0:
            return 1.0
        return math.log((self.documents + 1) / (self.frequencies.get(term, 0) + 1)) + 1.0


def _term_set(text: str) -> set[str]:

    terms: set[str] = set()
    for noun in get_analyzer("kiwi").nouns(text):
        terms.add(noun.text)
        terms.update(word for word, _, _ in noun.words)
    return terms


WRITTEN_FILE = Path(__file__).resolve().parent / "data" / "written_korean_df.json"
# A noun in at least this share of the formal documents is function-like: never a keyword.
FUNCTION_LIKE_SHARE = 0.6

_written: DocumentFrequencies | None = None
_written_lock = threading.Lock()


def _konlpy_texts() -> dict[str, str]:
    from konlpy.corpus import kobill, kolaw  # type: ignore[import-untyped]

    texts = {f"kobill/{f}": kobill.open(f).read() for f in sorted(kobill.fileids())}
    texts.update({f"kolaw/{f}": kolaw.open(f).read() for f in sorted(kolaw.fileids())})
    return texts


def build_written_korean_frequencies() -> dict[str, object]:
    """The document frequencies over konlpy's corpora, as written to `WRITTEN_FILE` (with the
    sha256 of each source text, so a test can tell the file matches the installed konlpy)."""
    texts = _konlpy_texts()
    frequencies = DocumentFrequencies.from_term_sets(_term_set(t) for t in texts.values())
    return {
        "source": "konlpy 0.6.0 corpora kobill (10 bills) and kolaw (the Constitution)",
        "sha256": {
            name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in texts.items()
        },
        "documents": frequencies.documents,
        "frequencies": dict(sorted(frequencies.frequencies.items())),
    }


def written_korean_frequencies() -> DocumentFrequencies:
    """Document frequencies of nouns (compounds and their words) over konlpy's eleven formal
    documents (module doc), from the file `python -m ml.background` writes."""
    global _written
    with _written_lock:
        if _written is None:
            data = json.loads(WRITTEN_FILE.read_text(encoding="utf-8"))
            _written = DocumentFrequencies(int(data["documents"]), dict(data["frequencies"]))
        return _written


def is_function_like(term: str) -> bool:
    """A noun of most formal texts (이하, 사항, 필요, 발생): in at least `FUNCTION_LIKE_SHARE` of
    the written documents."""
    written = written_korean_frequencies()
    share = written.frequencies.get(term, 0) / max(written.documents, 1)
    return share >= FUNCTION_LIKE_SHARE


def combined_idf(term: str, course: DocumentFrequencies | None) -> float:
    """The inverse document frequency of a term over formal written Korean and, when given, the
    course's other lectures, as one collection."""
    written = written_korean_frequencies()
    documents = written.documents + (course.documents if course else 0)
    frequency = written.frequencies.get(term, 0) + (
        course.frequencies.get(term, 0) if course else 0
    )
    return math.log((documents + 1) / (frequency + 1)) + 1.0


if __name__ == "__main__":  # python -m ml.background: rebuild the shipped file
    WRITTEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    WRITTEN_FILE.write_text(
        json.dumps(build_written_korean_frequencies(), ensure_ascii=False, indent=0) + "\n",
        encoding="utf-8",
    )
    print(WRITTEN_FILE)
