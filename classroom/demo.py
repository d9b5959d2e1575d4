"""Demo data for the embedded defaults: accounts, a course and lectures with example transcripts.

Idempotent: running it again updates the same rows instead of adding new ones.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from captions.models import TranscriptSegment
from lectures.models import Course, Enrollment, Lecture

DEMO_PASSWORD = "hearus-demo-2026"
DEMO_JOIN_CODE = "DEMO2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: str
    is_staff: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("instructor", "민수", "김", User.Role.INSTRUCTOR),
    DemoAccount("student1", "지은", "이", User.Role.STUDENT),
    DemoAccount("student2", "Alex", "Park", User.Role.STUDENT),
    DemoAccount("staff", "관리자", "", User.Role.STUDENT, is_staff=True),
)

# A past lecture's captions: (start_ms, end_ms, text).
INTRO_TRANSCRIPT = [
    (0, 4200, "안녕하세요, 인공지능 개론 첫 수업을 시작하겠습니다."),
    (4200, 9800, "오늘은 인공지능이 무엇인지, 그리고 기계 학습이 어떻게 동작하는지 살펴봅니다."),
    (9800, 15500, "인공지능은 사람처럼 생각하고 배우는 컴퓨터 시스템을 만드는 분야입니다."),
    (15500, 21900, "기계 학습은 데이터에서 규칙을 스스로 찾아내는 방법입니다."),
    (21900, 28000, "예를 들어 스팸 메일 분류기는 수많은 메일 예시에서 스팸의 특징을 배웁니다."),
    (31000, 37200, "다음 시간에는 지도 학습과 비지도 학습의 차이를 공부하겠습니다."),
    (37200, 41000, "과제는 강의 노트의 연습 문제 세 개입니다. 수고하셨습니다."),
]
SEARCH_TRANSCRIPT = [
    (0, 5200, "지난 시간에 이어서 탐색 알고리즘을 공부하겠습니다."),
    (5200, 11800, "너비 우선 탐색은 가까운 노드부터 차례로 방문합니다."),
    (11800, 18400, "깊이 우선 탐색은 한 경로를 끝까지 따라간 뒤 되돌아옵니다."),
    (18400, 25300, "휴리스틱을 쓰는 A 스타 탐색은 목표까지의 거리를 추정해서 더 빨리 찾습니다."),
]


@transaction.atomic
def load_demo_data() -> Course:
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user, _created = User.objects.update_or_create(
            username=account.username,
            defaults={
                "first_name": account.first_name,
                "last_name": account.last_name,
                "role": account.role,
                "is_staff": account.is_staff,
                "is_superuser": account.is_staff,
                "email": f"{account.username}@demo.hearus.invalid",
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[account.username] = user

    course, _created = Course.objects.update_or_create(
        code="AI101",
        defaults={
            "title": "인공지능 개론",
            "language": Course.Language.KOREAN,
            "vocabulary": "인공지능, 기계 학습, 지도 학습, 비지도 학습, 탐색 알고리즘, 휴리스틱",
        },
    )
    course.join_code = DEMO_JOIN_CODE
    course.save(update_fields=["join_code"])
    course.instructors.add(users["instructor"])
    Enrollment.objects.get_or_create(course=course, student=users["student1"])

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    lectures = [
        ("1주차: 인공지능이란 무엇인가", now - timedelta(days=14), INTRO_TRANSCRIPT),
        ("2주차: 탐색 알고리즘", now - timedelta(days=7), SEARCH_TRANSCRIPT),
        ("3주차: 지도 학습", now + timedelta(days=1), []),
    ]
    for title, when, transcript in lectures:
        status = Lecture.Status.ENDED if transcript else Lecture.Status.SCHEDULED
        existing = Lecture.objects.filter(course=course, title=title).first()
        if existing is not None and existing.status == Lecture.Status.READY and transcript:
            status = Lecture.Status.READY  # its notes are computed already: keep them
        lecture, _created = Lecture.objects.update_or_create(
            course=course,
            title=title,
            defaults={
                "scheduled_at": when,
                "status": status,
                "started_at": when if transcript else None,
                "ended_at": when + timedelta(minutes=75) if transcript else None,
                "created_by": users["instructor"],
            },
        )
        for seq, (start_ms, end_ms, text) in enumerate(transcript, start=1):
            TranscriptSegment.objects.update_or_create(
                lecture=lecture,
                seq=seq,
                defaults={"start_ms": start_ms, "end_ms": end_ms, "text": text},
            )
    return course
