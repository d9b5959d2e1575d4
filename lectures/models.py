import secrets
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from lectures.audio import delete_audio

# No 0/O or 1/I/L: join codes are read aloud and copied from slides.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class Course(models.Model):
    class Language(models.TextChoices):
        KOREAN = "ko", _("Korean")
        ENGLISH = "en", _("English")

    code = models.CharField(_("course code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("lecture language"), max_length=8, choices=Language.choices, default=Language.KOREAN
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="courses_taught",
        blank=True,
        verbose_name=_("instructors"),
    )
    captioners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="courses_captioned",
        blank=True,
        verbose_name=_("captioners"),
        help_text=_("People the instructors named to correct this course's captions."),
    )
    vocabulary = models.TextField(
        _("vocabulary"),
        blank=True,
        help_text=_(
            "Terms of this course, one per line or comma-separated (e.g. 역전파, gradient "
            "descent): given to speech recognition as a hint so they are spelled right."
        ),
    )
    join_code = models.CharField(
        _("join code"), max_length=16, unique=True, default=new_join_code, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def vocabulary_terms(self) -> list[str]:
        raw = self.vocabulary.replace("\n", ",")
        return [term.strip() for term in raw.split(",") if term.strip()]


class Enrollment(models.Model):
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("course")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("student"),
    )
    created_at = models.DateTimeField(_("enrolled"), auto_now_add=True)

    class Meta:
        ordering = ["course", "student"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="one_enrollment_per_student")
        ]

    def __str__(self) -> str:
        return f"{self.student} @ {self.course.code}"


class Lecture(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="lectures", verbose_name=_("course")
    )
    title = models.CharField(_("title"), max_length=200)
    scheduled_at = models.DateTimeField(_("scheduled for"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    recording = models.FileField(_("recording"), upload_to="recordings/%Y/%m/", blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    # Notes (keywords, summary): the last caption seq they cover, and when they were finished.
    notes_through_seq = models.PositiveIntegerField(default=0, editable=False)
    # Counts caption corrections, so notes computed from older text are never stored.
    transcript_revision = models.PositiveIntegerField(default=0, editable=False)
    processed_at = models.DateTimeField(_("notes computed"), null=True, blank=True)
    # When the status was last set, or the work of that status queued again (lectures.lifecycle,
    # classroom.recovery): how long a lecture has been processing.
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # The channel name of the socket now broadcasting this lecture, on whichever pod holds it.
    broadcaster_channel = models.CharField(max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_at"]
        verbose_name = _("lecture")
        verbose_name_plural = _("lectures")
        indexes = [models.Index(fields=["course", "status", "scheduled_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

    @property
    def is_past(self) -> bool:
        return self.status not in (self.Status.SCHEDULED, self.Status.LIVE)


@receiver(post_delete, sender=Lecture, dispatch_uid="lectures.lecture_audio_deleted")
def _lecture_deleted(sender: type[Lecture], instance: Lecture, **kwargs: Any) -> None:
    """A deleted lecture (also through its course) takes its kept audio with it, once the
    deletion has committed (a rolled-back one keeps both)."""
    lecture_id = instance.pk
    transaction.on_commit(lambda: delete_audio(lecture_id))


class Summary(models.Model):
    """The extractive summary of a lecture: whole transcript sentences, in lecture order, each
    pointing at its place (segment seq and character span) so the notes page can link to it."""

    lecture = models.OneToOneField(
        Lecture, on_delete=models.CASCADE, related_name="summary", verbose_name=_("lecture")
    )
    method = models.CharField(_("method"), max_length=16)
    # One item a summary line (a sentence, or a question and its answer):
    # [{"seq": 12, "start": 0, "end": 31, "text": "...", "score": 0.83, "start_ms": 61000,
    #   "end_ms": 64500, "spans": [[12, 0, 31], [13, 0, 8]]}, ...]; seq/start/end: the first span.
    sentences = models.JSONField(_("sentences"), default=list)
    # How often each term (noun, compound) occurs in the lecture: the course's other lectures
    # weigh keywords against these (ml.background.DocumentFrequencies).
    term_counts = models.JSONField(_("term counts"), default=dict, blank=True)
    created_at = models.DateTimeField(_("computed"), auto_now=True)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")

    def __str__(self) -> str:
        return f"{self.lecture}: {len(self.sentences)} sentences"


class Section(models.Model):
    """A part of a lecture where one topic runs (ml.lecture_notes.find_sections): its time, a
    title from its keywords, and its 1-3 summary lines (the same items as `Summary.sentences`)."""

    lecture = models.ForeignKey(
        Lecture, on_delete=models.CASCADE, related_name="sections", verbose_name=_("lecture")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    start_ms = models.PositiveIntegerField(_("start"))
    end_ms = models.PositiveIntegerField(_("end"))
    first_seq = models.PositiveIntegerField(_("first caption"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    terms = models.JSONField(_("terms"), default=list, blank=True)
    sentences = models.JSONField(_("sentences"), default=list)

    class Meta:
        ordering = ["lecture", "position"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "position"], name="one_section_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.lecture}: {self.title}"


class Keyword(models.Model):
    """One keyword of a lecture (TextRank over its nouns), with where it occurs."""

    lecture = models.ForeignKey(
        Lecture, on_delete=models.CASCADE, related_name="keywords", verbose_name=_("lecture")
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    term = models.CharField(_("term"), max_length=100)
    score = models.FloatField(_("score"))
    count = models.PositiveIntegerField(_("count"))
    # [[seq, start, end], ...]: `text[start:end]` of segment `seq` is the keyword.
    occurrences = models.JSONField(_("occurrences"), default=list)

    class Meta:
        ordering = ["lecture", "rank"]
        verbose_name = _("keyword")
        verbose_name_plural = _("keywords")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "rank"], name="one_keyword_per_rank"),
            models.UniqueConstraint(fields=["lecture", "term"], name="one_row_per_keyword"),
        ]

    def __str__(self) -> str:
        return self.term

    def for_viewers(self) -> dict[str, object]:
        """What viewers get to highlight (websocket `keywords` message and snapshot)."""
        return {"term": self.term, "score": self.score, "count": self.count}
