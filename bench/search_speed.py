"""Caption search speed on PostgreSQL with a million stored segments.

    .venv/bin/python -m bench.search_speed [--segments 1000000] [--queries 200] [--keep]

Makes a separate database (`hearus_bench` on the server of DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/), migrates it, and fills it with 200 courses x 50 lectures
and N caption segments made of realistic Korean and English lecture sentences: templates whose
slots take Korean and English terms by a Zipf law (a few very common, a long tail of rare ones),
and sentences of konlpy's Korean bills and constitution corpus. Each distinct sentence is
analysed once by `ml.search_terms.index_terms` (the same function the product uses); segments
are one or two sentences and are written with COPY.

Then it times `captions.search.search_segments` (query analysis, the SQL, highlighting: the
whole call a page makes) for a mix of queries (common, mid and rare Korean words, compounds,
English, two-word queries), as a student of 5 courses and as staff, with and without a course
filter, and prints p50/p95/max and the index sizes. The database is dropped at the end unless
`--keep`; `--reuse` searches a kept database without filling it again.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg


def _words(text: str) -> list[str]:
    return text.split()


KOREAN_TERMS = _words(
    """
데이터 모델 학습 알고리즘 함수 변수 그래프 노드 트리 배열 행렬 벡터 확률 분포 통계 가설 검정
신경망 인공지능 기계학습 딥러닝 역전파 경사하강법 손실함수 활성화함수 가중치 편향 정규화 과적합
교차검증 데이터베이스 트랜잭션 인덱스 정렬 탐색 해시 스택 큐 힙 재귀 동적계획법 분할정복
운영체제 프로세스 스레드 메모리 캐시 가상메모리 스케줄링 교착상태 파일시스템 네트워크 프로토콜
라우터 패킷 암호화 인증 보안 컴파일러 파서 문법 타입 객체 클래스 상속 다형성 인터페이스
자연어처리 형태소 토큰 임베딩 어텐션 트랜스포머 합성곱 풀링 드롭아웃 배치정규화 최적화 수렴
미분 적분 극한 급수 선형대수 고유값 고유벡터 행렬식 내적 외적 좌표계 변환 푸리에 신호 주파수
회로 저항 전압 전류 트랜지스터 논리회로 플립플롭 레지스터 명령어 파이프라인 병렬처리 분산시스템
클라우드 컨테이너 가상화 마이크로서비스 로드밸런서 복제 샤딩 일관성 가용성 지연시간 처리량
강화학습 보상 정책 에이전트 환경 상태 행동 탐험 활용 마르코프 베이즈 우도 사후확률 사전확률
군집화 분류 회귀 차원축소 주성분분석 결정트리 랜덤포레스트 부스팅 서포트벡터머신 최근접이웃
경제학 수요 공급 가격 시장 균형 탄력성 한계비용 기회비용 효용 소비자 생산자 독점 경쟁 외부효과
심리학 인지 기억 학습이론 동기 정서 발달 성격 사회심리 지각 주의 언어습득 행동주의
화학 분자 원자 결합 반응 촉매 산화 환원 평형 엔탈피 엔트로피 용액 농도 이온 전자배치
생물학 세포 유전자 단백질 효소 대사 광합성 호흡 진화 생태계 돌연변이 염색체 복제 전사 번역
물리학 운동량 에너지 힘 가속도 관성 중력 전자기 파동 양자 상대성 열역학 진동 굴절 간섭 회절
"""
)

ENGLISH_TERMS = _words(
    """
gradient descent backpropagation overfitting regularization dropout embedding attention
transformer tokenizer batch epoch optimizer learning rate loss function activation neuron
layer convolution pooling kernel stride padding recurrent LSTM GRU encoder decoder softmax
sigmoid ReLU tensor matrix vector eigenvalue probability distribution variance bias
hypothesis regression classification clustering kmeans PCA SVM random forest boosting
database transaction index query join schema normalization deadlock mutex semaphore thread
process scheduler cache memory pointer compiler parser syntax runtime recursion stack queue
heap hash tree graph node edge BFS DFS Dijkstra protocol packet router TCP UDP HTTP latency
throughput consistency availability partition replication sharding container Kubernetes
"""
)

KOREAN_TEMPLATES = [
    "오늘은 {k1}에 대해서 배워 보겠습니다.",
    "{k1}은 {k2}와 밀접한 관련이 있습니다.",
    "지난 시간에 {k1}를 봤는데요, 오늘은 {k2}로 넘어가겠습니다.",
    "{k1}의 정의를 먼저 칠판에 적어 볼게요.",
    "여기서 {k1}을 구하려면 {k2}을 먼저 계산해야 해요.",
    "시험에 {k1} 문제가 꼭 나옵니다, 잘 정리해 두세요.",
    "{k1}과 {k2}의 차이가 뭔지 설명할 수 있는 사람 있나요?",
    "이 그림에서 {k1}이 어떻게 변하는지 보세요.",
    "영어로는 {e1}라고 하는데, 우리말로 {k1}이라고 부릅니다.",
    "{e1}를 쓰면 {k1} 문제가 많이 줄어듭니다.",
    "교과서 3장에 {k1}과 {e1} 예제가 있습니다.",
    "{k1} 때문에 {k2}이 생기는 경우가 많아요.",
    "자, 그러면 {k1}을 직접 구현해 봅시다.",
    "{k1}은 {k2}의 특별한 경우라고 볼 수 있습니다.",
    "과제로 {k1}에 관한 보고서를 제출해 주세요.",
    "질문 있으면 {k1} 부분에서 손 들어 주세요.",
    "실습에서는 {e1}와 {e2}를 같이 써 보겠습니다.",
    "{k1}의 시간 복잡도는 어떻게 될까요?",
    "많은 학생들이 {k1}과 {k2}을 헷갈려 합니다.",
    "다음 주에는 {k1} 응용으로 {k2}까지 다룹니다.",
    "수업을 시작하겠습니다. 오늘 주제는 {k1}입니다.",
    "이 식에서 {k1} 항이 사라지는 이유를 생각해 보세요.",
    "{k1} 모델을 학습시키면 {e1} 값이 점점 작아집니다.",
    "논문에서는 {e1} 대신 {k1}이라는 용어를 씁니다.",
]

ENGLISH_TEMPLATES = [
    "Today we will look at {e1} and how it relates to {e2}.",
    "The {e1} is computed before the {e2} step.",
    "Remember that {e1} can cause problems with {e2}.",
    "On the exam you will be asked to explain {e1}.",
    "Let's implement {e1} in Python and measure the {e2}.",
    "Questions about {e1}? Please ask now.",
    "Many students confuse {e1} with {e2}.",
    "The homework covers {e1}, {e2} and a bit of {e3}.",
]


def _zipf_pick(rng: random.Random, words: list[str]) -> str:
    # P(rank r) ~ 1/r: a handful of very common words, a long tail of rare ones.
    return words[min(int(len(words) ** rng.random()) - 1, len(words) - 1)]


def template_sentences(rng: random.Random, count: int) -> list[str]:
    korean = KOREAN_TERMS[:]
    english = ENGLISH_TERMS[:]
    rng.shuffle(korean)
    rng.shuffle(english)
    sentences: set[str] = set()
    while len(sentences) < count:
        templates = KOREAN_TEMPLATES if rng.random() < 0.8 else ENGLISH_TEMPLATES
        template = rng.choice(templates)
        sentences.add(
            template.format(
                k1=_zipf_pick(rng, korean),
                k2=_zipf_pick(rng, korean),
                e1=_zipf_pick(rng, english),
                e2=_zipf_pick(rng, english),
                e3=_zipf_pick(rng, english),
            )
        )
    return sorted(sentences)


def corpus_sentences() -> list[str]:
    """Sentences of konlpy's Korean corpora (bills, the constitution): real vocabulary."""
    import konlpy  # type: ignore[import-untyped]

    root = Path(konlpy.__file__).parent / "data" / "corpus"
    sentences: list[str] = []
    for path in sorted(root.glob("*/*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for part in line.replace("다. ", "다.\n").splitlines():
                part = part.strip()
                if 10 <= len(part) <= 200:
                    sentences.append(part)
    return sorted(set(sentences))


QUERIES: dict[str, list[str]] = {
    # In about 7-13 % of all segments (a word said in every lecture, many times).
    "common": ["학습", "계산", "경우", "환경", "응용"],
    "mid": ["데이터", "모델", "수업", "역전파", "정규화", "gradient", "attention"],
    "rare": ["엔탈피", "회절", "국회", "헌법", "Dijkstra", "세포"],
    "compound": ["인공지능", "경사 하강법", "자연어 처리", "가상 메모리", "learning rate"],
    "two words": ["데이터 모델", "신경망 학습", "트리 탐색", "수요 공급"],
}


def server_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(psycopg_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(psycopg_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(bench_url: str, segments: int, courses: int, per_course: int, seed: int) -> float:
    """Users, courses, lectures via the ORM; segments via COPY. Returns seconds taken."""
    from django.core.management import call_command

    from accounts.models import User
    from lectures.models import Course, Enrollment, Lecture
    from ml.search_terms import index_terms_many

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    staff = User.objects.create_user("bench_staff", password="x", is_staff=True)
    student = User.objects.create_user("bench_student", password="x")
    del staff
    course_rows = Course.objects.bulk_create(
        Course(code=f"C{n:03d}", title=f"Course {n}", language="ko") for n in range(courses)
    )
    for course in rng.sample(course_rows, 5):
        Enrollment.objects.create(course=course, student=student)
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    lectures = Lecture.objects.bulk_create(
        Lecture(
            course=course,
            title=f"{course.code} week {week}",
            scheduled_at=start + timedelta(days=7 * week + n % 5),
            status=Lecture.Status.READY,
        )
        for n, course in enumerate(course_rows)
        for week in range(per_course)
    )
    print(f"{len(course_rows)} courses, {len(lectures)} lectures", flush=True)

    t0 = time.perf_counter()
    pool = template_sentences(rng, 40_000) + corpus_sentences()
    pool_terms = index_terms_many(pool)
    print(
        f"{len(pool)} distinct sentences analysed by Kiwi in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )

    lecture_ids = [lecture.pk for lecture in lectures]
    per_lecture, extra = divmod(segments, len(lecture_ids))

    def rows() -> Iterator[tuple[Any, ...]]:
        created = datetime.now(tz=UTC)
        for index, lecture_id in enumerate(lecture_ids):
            clock = 0
            for seq in range(1, per_lecture + (1 if index < extra else 0) + 1):
                picks = [rng.randrange(len(pool)) for _ in range(1 if rng.random() < 0.7 else 2)]
                text = " ".join(pool[i] for i in picks)
                terms = " " + " ".join(pool_terms[i].strip() for i in picks) + " "
                length = 1500 + 60 * len(text)
                yield (lecture_id, seq, clock, clock + length, text, terms, created)
                clock += length + 200

    t0 = time.perf_counter()
    with psycopg.connect(psycopg_url(bench_url)) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY captions_transcriptsegment "
            "(lecture_id, seq, start_ms, end_ms, text, search_terms, created_at) FROM STDIN"
        ) as copy:
            for row in rows():
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    print(f"{segments} segments written (COPY) in {time.perf_counter() - t0:.1f} s", flush=True)
    return time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_queries(total: int, seed: int) -> list[tuple[str, str, float, int]]:
    from accounts.models import User
    from captions.search import search_segments
    from lectures.selectors import courses_visible_to

    rng = random.Random(seed)
    student = User.objects.get(username="bench_student")
    staff = User.objects.get(username="bench_staff")
    student_courses = list(courses_visible_to(student).values_list("pk", flat=True))
    all_courses = list(courses_visible_to(staff).values_list("pk", flat=True)[:50])
    plan = [
        (group, query, who, filtered)
        for group, queries in QUERIES.items()
        for query in queries
        for who in ("student", "staff")
        for filtered in (False, True)
    ]
    for _group, query, who, _filtered in plan[:: len(plan) // 10]:  # warm up Kiwi and caches
        search_segments(student if who == "student" else staff, query)
    results: list[tuple[str, str, float, int]] = []
    for n in range(total):
        group, query, who, filtered = plan[n % len(plan)] if n < len(plan) else rng.choice(plan)
        user = student if who == "student" else staff
        course = rng.choice(student_courses if who == "student" else all_courses)
        began = time.perf_counter()
        page = search_segments(user, query, course_id=course if filtered else None)
        elapsed = (time.perf_counter() - began) * 1000
        label = f"{group} / {who}{' + course' if filtered else ''}"
        results.append((label, query, elapsed, len(page.hits)))
    return results


def sizes() -> dict[str, str]:
    from django.db import connection

    names = {
        "table (heap + TOAST)": "pg_table_size('captions_transcriptsegment')",
        "GIN index segment_search_vector": "pg_relation_size('segment_search_vector')",
        "all indexes of the table": "pg_indexes_size('captions_transcriptsegment')",
    }
    with connection.cursor() as cursor:
        out = {}
        for label, expression in names.items():
            cursor.execute(f"SELECT pg_size_pretty({expression})")
            out[label] = str(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM captions_transcriptsegment")
        out["segments"] = str(cursor.fetchone()[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--lectures-per-course", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database", default="hearus_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="search a kept database as it is")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not admin_url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    bench_url = server_url(admin_url, args.database)
    admin_url = server_url(admin_url, "postgres")
    if not args.reuse:
        create_database(admin_url, args.database)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")
    import django

    django.setup()
    try:
        if not args.reuse:
            took = fill(bench_url, args.segments, args.courses, args.lectures_per_course, args.seed)
            print(f"filled in {took:.0f} s", flush=True)
        results = run_queries(args.queries, args.seed)
        times = [elapsed for _label, _query, elapsed, _hits in results]
        print(f"\n{len(times)} searches (search_segments, 20 hits a page, warm):")
        print(
            f"  all: p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms,"
            f" max {max(times):.1f} ms"
        )
        by_label: dict[str, list[float]] = {}
        for label, _query, elapsed, _hits in results:
            by_label.setdefault(label, []).append(elapsed)
        for label, values in sorted(by_label.items()):
            print(
                f"  {label:32} n={len(values):3}  p50 {statistics.median(values):6.1f}"
                f"  p95 {percentile(values, 0.95):6.1f}  max {max(values):6.1f} ms"
            )
        slowest = sorted(results, key=lambda r: -r[2])[:5]
        print(
            "  slowest:", "; ".join(f"{q!r} ({label}) {ms:.0f} ms" for label, q, ms, _ in slowest)
        )
        for label, value in sizes().items():
            print(f"  {label}: {value}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin_url, args.database)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
