from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classroom.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_data
from classroom.notes import process_lecture
from lectures.models import Lecture


class Command(BaseCommand):
    help = "Create the demo accounts, course and lectures (idempotent). Development only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="allow it with DEBUG off (never in production)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Demo accounts have a public password: refusing with DEBUG off.")
        course = load_demo_data()
        self.stdout.write(
            self.style.SUCCESS(f"Demo course {course} (join code {course.join_code})")
        )
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.username:<11} password: {DEMO_PASSWORD}")
        # The past lectures' notes (keywords, summary), as a worker computes them after class.
        for lecture in course.lectures.filter(status=Lecture.Status.ENDED).order_by("pk"):
            status = process_lecture(lecture.pk)
            self.stdout.write(f"  notes of {lecture.title}: {status}")
