"""Labelled summarization data that installs offline, for training and measuring the summary head.

Every loader gives `SummaryDocument`s: a document's sentences in order, a target per sentence in
[0, 1], and the human reference summary where there is one.

- **aclsum** (PyPI `aclsum` 0.1.2, MIT; English): 250 ACL papers (train 100, val 50, test 100),
  sentences of the abstract, introduction and conclusion, with human 0/1 highlight labels for
  three aspects (challenge, approach, outcome). A sentence's target is 1 when it is highlighted
  for any aspect; the reference is the three aspect summaries joined.
- **sadedegel** (PyPI `sadedegel` 0.21.2, MIT; Turkish): 96 news columns whose sentences were
  deleted round by round by annotators (`deletedInRound`: deleted later = more important). A
  sentence's target is graded, (round - 1) / (last round - 1): 1 for the sentences kept to the
  end, 0 for those deleted first. No reference text.
- **AI Hub / Dacon** Korean news (jsonl, not installable: pass a path): `article_original`
  (sentences), `extractive` (indices of the chosen sentences), `abstractive` (a written summary).
  Where `extractive` is missing the targets are the greedy ROUGE oracle against `abstractive`.
- **spoken** (real spoken Korean: Dharma Q&A talks with human-made timed subtitles from
  github.com/jungtosociety/dharma-qna, which carries no licence, so the subtitles are read from a
  local copy and never committed): the captions joined and split into sentences exactly as the
  notes do (`ml.lecture_notes.caption_sentences`); the reference is one written for Hearus
  (`ml/data/spoken_references.json`, checked against each file's sha256). Test data only.
- **kobill** (konlpy's corpus, 10 Korean bills): the "제안이유 (및 주요내용)" section is the
  bill's human summary, the reference; the rest of the bill is the document (see `split_kobill`).
  Test data only (no sentence labels).

Only the data files of aclsum and sadedegel are used: their wheels are fetched with
`pip download --no-deps` (a registry download, checked against the sha256 pinned here) and read
straight out of the zip; the packages are never installed (their dependencies conflict with ours).

Nothing here imports Django.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.korean import get_analyzer
from ml.lecture_notes import Caption, caption_sentences
from ml.rouge import greedy_oracle, morphemes
from ml.subtitles import parse_captions

__all__ = [
    "ACLSUM_SPLITS",
    "WHEELS",
    "DataUnavailable",
    "KobillBill",
    "SummaryDocument",
    "ensure_wheel",
    "label_counts",
    "load_aclsum",
    "load_aihub",
    "load_kobill",
    "load_sadedegel",
    "load_spoken",
    "split_kobill",
    "split_sentences",
]

ACLSUM_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class WheelPin:
    requirement: str
    filename: str
    sha256: str


WHEELS: dict[str, WheelPin] = {
    "aclsum": WheelPin(
        "aclsum==0.1.2",
        "aclsum-0.1.2-py3-none-any.whl",
        "c75ffc48d3eabc5f37c68ea087943780a85950087957759e89746f21111f2213",
    ),
    "sadedegel": WheelPin(
        "sadedegel==0.21.2",
        "sadedegel-0.21.2-py3-none-any.whl",
        "79cfb25423178c7381eb6fb1afcf31d576428bddf13a89e68e55a6f9278e7359",
    ),
}


class DataUnavailable(RuntimeError):
    """A data set could not be fetched or read."""


@dataclass(frozen=True)
class SummaryDocument:
    doc_id: str
    source: str  # "aclsum", "sadedegel", "aihub", "kobill"
    language: str  # "en", "tr", "ko"
    sentences: tuple[str, ...]
    labels: tuple[float, ...]  # one target in [0, 1] per sentence (empty for test-only data)
    reference: str = ""  # the human reference summary, "" when there is none


# --- wheels --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ensure_wheel(name: str, cache_dir: Path) -> Path:
    """The pinned wheel of `name` ("aclsum" or "sadedegel") in `cache_dir`, fetched once with
    `pip download --no-deps` and checked against its pinned sha256."""
    pin = WHEELS[name]
    path = Path(cache_dir) / pin.filename
    if path.is_file() and _sha256(path) == pin.sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", pin.requirement, "-d", str(path.parent),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not path.is_file():
        raise DataUnavailable(
            f"could not download {pin.requirement} (pip download --no-deps): "
            f"{result.stderr.strip()[-500:]}"
        )
    if (actual := _sha256(path)) != pin.sha256:
        path.unlink()
        raise DataUnavailable(f"{pin.filename} has sha256 {actual}, expected {pin.sha256}")
    return path


# --- aclsum --------------------------------------------------------------------------------------

_DETOKENIZE = (
    (re.compile(r" ([,.;:?!%)\]}])"), r"\1"),
    (re.compile(r"([(\[{]) "), r"\1"),
    (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
)


def _detokenize(text: str) -> str:
    """aclsum's sentences are space-tokenized ("paper , we"): restore ordinary spacing."""
    for pattern, replacement in _DETOKENIZE:
        text = pattern.sub(replacement, text)
    return text.strip()


def _aclsum_document(record: dict[str, Any]) -> SummaryDocument:
    sections: dict[str, list[str]] = record["sentences"]
    highlights: dict[str, dict[str, list[int]]] = record["highlights"]
    sentences: list[str] = []
    labels: list[float] = []
    for section, texts in sections.items():
        for index, text in enumerate(texts):
            chosen = any(
                index < len(aspect.get(section, [])) and aspect[section][index]
                for aspect in highlights.values()
            )
            sentences.append(_detokenize(text))
            labels.append(1.0 if chosen else 0.0)
    summary: dict[str, str] = record.get("summary") or {}
    reference = " ".join(_detokenize(text) for text in summary.values() if text)
    return SummaryDocument(
        str(record["id"]), "aclsum", "en", tuple(sentences), tuple(labels), reference
    )


def load_aclsum(split: str, cache_dir: Path) -> list[SummaryDocument]:
    """aclsum's `split` ("train", "val" or "test"), read from its wheel."""
    if split not in ACLSUM_SPLITS:
        raise ValueError(f"unknown aclsum split {split!r}: choose one of {ACLSUM_SPLITS}")
    wheel = ensure_wheel("aclsum", cache_dir)
    with zipfile.ZipFile(wheel) as archive:
        lines = archive.read(f"aclsum/dataset/{split}.jsonl").decode("utf-8").splitlines()
    return [_aclsum_document(json.loads(line)) for line in lines if line.strip()]


# --- sadedegel -----------------------------------------------------------------------------------


def _sadedegel_document(doc_id: str, record: dict[str, Any]) -> SummaryDocument:
    items = sorted(record["sentences"], key=lambda item: int(item["id"]))
    rounds = [int(item["deletedInRound"]) for item in items]
    first, last = min(rounds), max(rounds)
    span = max(last - first, 1)
    return SummaryDocument(
        doc_id,
        "sadedegel",
        "tr",
        tuple(" ".join(str(item["content"]).split()) for item in items),
        tuple((r - first) / span for r in rounds),
    )


def load_sadedegel(cache_dir: Path) -> list[SummaryDocument]:
    """sadedegel's 96 annotated documents (sorted by name), read from its wheel."""
    wheel = ensure_wheel("sadedegel", cache_dir)
    prefix = "sadedegel/dataset/annotated/"
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(
            n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".json")
        )
        return [
            _sadedegel_document(Path(name).stem, json.loads(archive.read(name))) for name in names
        ]


# --- AI Hub / Dacon ------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    return "" if value is None else str(value)


def load_aihub(path: Path, *, oracle_sentences: int = 3) -> list[SummaryDocument]:
    """Korean extractive data in the AI Hub / Dacon jsonl format: one JSON object a line with
    `id`, `article_original` (list of sentences), `extractive` (chosen indices, may be missing)
    and `abstractive` (reference text). Without `extractive`, labels come from the greedy ROUGE
    oracle (at most `oracle_sentences`) against `abstractive`."""

    documents: list[SummaryDocument] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataUnavailable(f"cannot read {path}: {error}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            sentences = tuple(" ".join(str(s).split()) for s in record["article_original"])
        except (ValueError, KeyError, TypeError) as error:
            raise DataUnavailable(f"{path}:{number}: not an AI Hub/Dacon record: {error}") from None
        reference = _as_text(record.get("abstractive")).strip()
        extractive = record.get("extractive")
        chosen: set[int]
        if isinstance(extractive, list) and extractive:
            chosen = {int(i) for i in extractive if i is not None}
        elif reference:
            tokens = [morphemes(s) for s in sentences]
            chosen = set(greedy_oracle(tokens, morphemes(reference), oracle_sentences))
        else:
            continue  # neither labels nor a reference: nothing to learn from
        labels = tuple(1.0 if i in chosen else 0.0 for i in range(len(sentences)))
        doc_id = str(record.get("id", f"{Path(path).stem}-{number}"))
        documents.append(SummaryDocument(doc_id, "aihub", "ko", sentences, labels, reference))
    return documents


# --- kobill --------------------------------------------------------------------------------------

_PAGE_MARKER = re.compile(r"^-\s*\d+\s*-$")
_SUMMARY_HEADING = re.compile(r"^제안이유")
_SUBHEADINGS = frozenset({"주요내용", "참고사항", "제안이유", "제안이유 및 주요내용"})
_LAW_TEXT = re.compile(r"^법률\s+제\s+호$")
_TABLE_HEADING = re.compile(r"^신\s*[·ㆍ]\s*구\s*조\s*문\s*대\s*비\s*표$")
_COST_HEADING = re.compile(r"비용추계")
_SENTENCE_END = re.compile(r"[.。]\s*$")
_NOISE = re.compile(r"^[\s\-\u2013\u2014.·ㆍ\u223c~()0-9①-⑳]*$")
_ITEM_START = re.compile(r"^\s*(?:\d+\.\s|[가-하]\.\s|[①-⑳]|\(\d+\)|제\d+조(?:의\d+)?\()")
_HEADING_CHARS = 20


@dataclass(frozen=True)
class KobillBill:
    doc_id: str
    title: str
    summary: str  # the "제안이유 (및 주요내용)" section: the human summary
    body: str  # the rest of the bill without the old/new comparison table


def _join_wrapped(lines: Iterable[str]) -> str:
    """The bills are PDF text: a paragraph's lines break mid-word ("필요" / "한 나이이나") and a
    break at a space keeps its trailing space, so wrapped lines join with nothing between them.
    A paragraph ends after a line that ends a sentence or a short line (a heading: wrapped lines
    run the full width of about 35 characters), and before a line that starts with an item
    marker (1., 가., ①, (1), 제3조)."""
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line.strip():
            continue
        if _ITEM_START.match(line) and current.strip():
            paragraphs.append(" ".join(current.split()))
            current = ""
        current += line.rstrip("\n")
        if _SENTENCE_END.search(line) or len(line.replace(" ", "")) < _HEADING_CHARS:
            paragraphs.append(" ".join(current.split()))
            current = ""
    if current.strip():
        paragraphs.append(" ".join(current.split()))
    return "\n".join(paragraphs)


def split_kobill(doc_id: str, text: str) -> KobillBill:
    """Split one kobill file into its summary and its body.

    - Before the "제안이유" heading: the title and the bill's metadata (sponsors, dates): dropped
      except the first line, the title.
    - The summary runs from that heading to the first page marker ("- 1 -") at which the text so
      far ends a sentence (one bill's summary runs on over two pages), or to the "법률 제 호"
      line that starts the law's text. Its subheadings (주요내용, 참고사항) are dropped.
    - The body is everything after, without page markers, without the old/new comparison table
      (신·구조문대비표: two columns of PDF text interleaved line by line, not sentences; it runs
      to the cost statement or to the end) and without lines of only numbers and dashes.
    """
    lines = text.splitlines()
    title = next((line.strip() for line in lines if line.strip()), doc_id)
    start = next((i for i, line in enumerate(lines) if _SUMMARY_HEADING.match(line.strip())), None)
    if start is None:
        raise DataUnavailable(f"kobill {doc_id}: no 제안이유 section")
    summary_lines: list[str] = []
    end = len(lines)
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if _LAW_TEXT.match(stripped):
            end = i
            break
        if _PAGE_MARKER.match(stripped):
            so_far = "".join(summary_lines).rstrip()
            if so_far.endswith("."):
                end = i + 1
                break
            continue
        if stripped in _SUBHEADINGS:
            continue
        summary_lines.append(lines[i])
    body_lines: list[str] = []
    in_table = False
    for line in lines[end:]:
        stripped = line.strip()
        if _TABLE_HEADING.match(stripped.replace(" ", "")) or _TABLE_HEADING.match(stripped):
            in_table = True
            continue
        if in_table and _COST_HEADING.search(stripped):
            in_table = False
        if in_table or _PAGE_MARKER.match(stripped) or _NOISE.match(stripped):
            continue
        if _LAW_TEXT.match(stripped) or stripped.replace(" ", "") == title.replace(" ", ""):
            continue  # the law text's header and the repeated title
        body_lines.append(line)
    return KobillBill(doc_id, title, _join_wrapped(summary_lines), _join_wrapped(body_lines))


def split_sentences(text: str) -> list[str]:
    """Sentences of a text by ml.korean's Kiwi splitter, white space normalised, empty ones and
    those without a letter or digit dropped."""

    sentences: list[str] = []
    for sentence in get_analyzer("kiwi").sentences(text):
        cleaned = " ".join(text[sentence.start : sentence.end].split())
        if any(ch.isalnum() for ch in cleaned):
            sentences.append(cleaned)
    return sentences


def load_kobill(*, min_sentence_chars: int = 8) -> list[SummaryDocument]:
    """konlpy's 10 kobill bills as test documents: body sentences (Kiwi splitter; fragments
    shorter than `min_sentence_chars`, such as "부 칙", dropped) and the summary as reference."""
    from konlpy.corpus import kobill  # type: ignore[import-untyped]

    documents: list[SummaryDocument] = []
    for file_id in sorted(kobill.fileids()):
        bill = split_kobill(Path(file_id).stem, kobill.open(file_id).read())
        sentences = tuple(
            s for s in split_sentences(bill.body) if len(s.replace(" ", "")) >= min_sentence_chars
        )
        documents.append(SummaryDocument(bill.doc_id, "kobill", "ko", sentences, (), bill.summary))
    return documents


def label_counts(documents: Sequence[SummaryDocument]) -> tuple[int, float]:
    """(sentences, sum of targets) over documents: for reports."""
    return sum(len(d.sentences) for d in documents), sum(sum(d.labels) for d in documents)


# --- spoken Korean -------------------------------------------------------------------------------

SPOKEN_REFERENCES = Path(__file__).resolve().parent / "data" / "spoken_references.json"
# Five PyCon Korea talks (CC BY 4.0) kept in the repository with their references.
PYCONKR_DIR = Path(__file__).resolve().parent / "data" / "pyconkr"


def load_pyconkr() -> list[SummaryDocument]:
    """The spoken Korean set shipped with Hearus (`ml/data/pyconkr`, see its README)."""
    return load_spoken(PYCONKR_DIR, PYCONKR_DIR / "references.json")


def load_spoken(folder: Path, references: Path = SPOKEN_REFERENCES) -> list[SummaryDocument]:
    """The spoken talks of `references` found in `folder` (by file name, or under their
    repository path), split into sentences as the notes split captions, with their reference."""

    data = json.loads(Path(references).read_text(encoding="utf-8"))
    documents: list[SummaryDocument] = []
    missing: list[str] = []
    for talk in data["talks"]:
        candidates = [Path(folder) / talk["file"], Path(folder) / talk["path"]]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing.append(talk["file"])
            continue
        if _sha256(path) != talk["sha256"]:
            raise DataUnavailable(f"{path}: not the file the reference was written for (sha256)")
        cues = parse_captions(path.read_text(encoding="utf-8"))
        captions = [Caption(i, c.start_ms, c.end_ms, c.text) for i, c in enumerate(cues, 1)]
        sentences = tuple(s.text for s in caption_sentences(captions))
        reference = "\n".join(talk["reference"])
        documents.append(SummaryDocument(talk["file"], "spoken", "ko", sentences, (), reference))
    if not documents:
        raise DataUnavailable(
            f"no spoken talk found in {folder} (wanted {', '.join(missing)}): clone "
            f"{data['source']['repository']} (commit {data['source']['commit'][:10]}) and pass "
            "its folder, or a folder holding the files"
        )
    return documents


# --- written Korean, development only -------------------------------------------------------------


def load_scinews(folder: Path) -> list[SummaryDocument]:
    """sci-news-sum-kr-50 (github.com/theeluwin/sci-news-sum-kr-50: 50 Naver IT/science news
    articles, the sentences two people tagged as the summary) from a local copy of its `data/`
    folder. Its README asks for non-commercial experiments only and the articles belong to
    their publishers, so it is never committed: a development set for tuning, not a test."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        paths = sorted((Path(folder) / "data").glob("*.json"))
    if not paths:
        raise DataUnavailable(f"no sci-news-sum-kr-50 json files in {folder}")
    documents: list[SummaryDocument] = []
    for path in paths:
        record = json.loads(path.read_text(encoding="utf-8"))
        sentences = tuple(" ".join(s.split()) for s in record["sentences"])
        chosen = set(record["summaries"])
        labels = tuple(1.0 if i in chosen else 0.0 for i in range(len(sentences)))
        reference = "\n".join(sentences[i] for i in sorted(chosen))
        documents.append(SummaryDocument(path.stem, "scinews", "ko", sentences, labels, reference))
    return documents
