from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lectures.models import Lecture
from ml.subtitles import reading_clock


class TranscriptSegment(models.Model):
    """One final caption. `seq` counts 1, 2, 3... per lecture; viewers resume after a seq."""

    lecture = models.ForeignKey(
        Lecture, on_delete=models.CASCADE, related_name="segments", verbose_name=_("lecture")
    )
    seq = models.PositiveIntegerField(_("sequence number"))
    start_ms = models.PositiveIntegerField(_("start (ms)"))
    end_ms = models.PositiveIntegerField(_("end (ms)"))
    text = models.TextField(_("text"))
    # " term term " from ml.search_terms.index_terms, filled by captions.search.index_segments
    # outside the live process; "" means not indexed yet. PostgreSQL also keeps a generated
    # tsvector column over it with a GIN index (migration 0002, not a model field).
    search_terms = models.TextField(_("search terms"), blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set when someone corrected the text; the earlier texts are in `revisions`.
    edited_at = models.DateTimeField(_("corrected"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["lecture", "seq"]
        verbose_name = _("transcript segment")
        verbose_name_plural = _("transcript segments")
        indexes = [
            # Finds the few segments not indexed yet (search falls back to their text).
            models.Index(
                fields=["lecture"], condition=models.Q(search_terms=""), name="segment_unindexed"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["lecture", "seq"], name="one_segment_per_seq"),
            models.CheckConstraint(
                condition=models.Q(end_ms__gte=models.F("start_ms")),
                name="segment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.text[:40]}"

    @property
    def start_clock(self) -> str:
        """The start as H:MM:SS (or M:SS), as a reader of the transcript sees it."""
        return reading_clock(self.start_ms)


class SegmentRevision(models.Model):
    """One correction of a caption: the text it replaced, the text it became, who and when.
    The first revision's `previous_text` is what was originally recognised."""

    segment = models.ForeignKey(
        TranscriptSegment,
        on_delete=models.CASCADE,
        related_name="revisions",
        verbose_name=_("segment"),
    )
    previous_text = models.TextField(_("previous text"))
    text = models.TextField(_("corrected text"))
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("corrected by"),
    )
    edited_at = models.DateTimeField(_("corrected"), auto_now_add=True)

    class Meta:
        ordering = ["segment", "edited_at", "pk"]
        verbose_name = _("caption correction")
        verbose_name_plural = _("caption corrections")

    def __str__(self) -> str:
        return f"#{self.segment.seq}: {self.previous_text[:30]} -> {self.text[:30]}"
