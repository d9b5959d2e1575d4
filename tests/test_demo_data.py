from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from captions.models import TranscriptSegment
from classroom.demo import DEMO_JOIN_CODE, DEMO_PASSWORD, load_demo_data
from lectures.models import Course, Enrollment, Lecture


def counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Course.objects.count(),
        Enrollment.objects.count(),
        Lecture.objects.count(),
        TranscriptSegment.objects.count(),
    )


def test_the_demo_loads_twice_without_duplicating_anything(db: None) -> None:
    load_demo_data()
    first = counts()
    call_command("seed_demo", "--force")
    assert counts() == first
    assert first == (4, 1, 1, 3, 11)


def test_the_demo_student_reads_a_past_lecture_and_student2_can_join(db: None) -> None:
    load_demo_data()
    reader = Client()
    assert reader.login(request=HttpRequest(), username="student1", password=DEMO_PASSWORD)
    past = Lecture.objects.filter(status=Lecture.Status.ENDED).first()
    assert past is not None
    first_caption = past.segments.order_by("seq").first()
    assert first_caption is not None
    page = reader.get(reverse("lecture_detail", args=[past.pk])).content.decode()
    assert first_caption.text in page
    joiner = Client()
    assert joiner.login(request=HttpRequest(), username="student2", password=DEMO_PASSWORD)
    response = joiner.post(reverse("dashboard"), {"join_code": DEMO_JOIN_CODE.lower()})
    assert response.status_code == 302


def test_the_demo_staff_user_opens_the_admin(db: None) -> None:
    load_demo_data()
    client = Client()
    assert client.login(request=HttpRequest(), username="staff", password=DEMO_PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200
