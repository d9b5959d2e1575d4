from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lectures.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_data


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
