from django.db import models
from django.utils.translation import gettext_lazy as _

from lectures.models import Lecture


class TranscriptSegment(models.Model):
    """One final caption. `seq` counts 1, 2, 3... per lecture; viewers resume after a seq."""

    lecture = models.ForeignKey(
        Lecture, on_delete=models.CASCADE, related_name="segments", verbose_name=_("lecture")
    )
    seq = models.PositiveIntegerField(_("sequence number"))
    start_ms = models.PositiveIntegerField(_("start (ms)"))
    end_ms = models.PositiveIntegerField(_("end (ms)"))
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["lecture", "seq"]
        verbose_name = _("transcript segment")
        verbose_name_plural = _("transcript segments")
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
        seconds = self.start_ms // 1000
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
