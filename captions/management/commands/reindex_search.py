"""`manage.py reindex_search [--lecture ID] [--all]`: store the search terms of caption segments.

Without `--all` only segments not indexed yet are analysed (after an upgrade, or to catch up
with captions the worker missed); with `--all` every segment is analysed again (after the
analysis in `ml/search_terms.py` changed).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from captions.search import index_segments
from lectures.models import Lecture


class Command(BaseCommand):
    help = "Store the search terms of caption segments (those not indexed yet, or all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lecture", type=int, help="only this lecture (its id)")
        parser.add_argument(
            "--all", action="store_true", help="analyse every segment again, not only new ones"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lecture_id: int | None = options["lecture"]
        reindex: bool = options["all"]
        lectures = Lecture.objects.order_by("pk")
        if lecture_id is not None:
            lectures = lectures.filter(pk=lecture_id)
            if not lectures.exists():
                raise CommandError(f"No lecture with id {lecture_id}")
        total = 0
        for pk in lectures.values_list("pk", flat=True).iterator():
            written = index_segments(pk, reindex=reindex)
            total += written
            if written and options["verbosity"] > 1:
                self.stdout.write(f"lecture {pk}: {written} segments")
        self.stdout.write(self.style.SUCCESS(f"Indexed {total} segments."))
