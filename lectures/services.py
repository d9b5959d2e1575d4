"""Every write to courses, enrolments and lectures goes through here, permission checks included."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from lectures import lifecycle
from lectures.models import JOIN_CODE_LENGTH, Course, Enrollment, Lecture, new_join_code
from lectures.selectors import require_course_manager


def normalize_join_code(raw: str) -> str:
    """Codes are shown in upper case, but people type them any way, with spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


@transaction.atomic
def course_join(*, user: User, join_code: str) -> Enrollment:
    """Enrol `user` in the course with this join code; joining twice is harmless."""
    code = normalize_join_code(join_code)
    if not code:
        raise ValidationError(_("Enter the join code your instructor gave you."), code="required")
    course = Course.objects.filter(join_code=code).first()
    if course is None:
        hint = (
            _("Join codes have %(n)d characters.") % {"n": JOIN_CODE_LENGTH}
            if len(code) != JOIN_CODE_LENGTH
            else _("Check it with your instructor; it may have been changed.")
        )
        raise ValidationError(
            _("No course has the join code “%(code)s”. %(hint)s") % {"code": code, "hint": hint},
            code="unknown_code",
        )
    if course.instructors.filter(pk=user.pk).exists():
        raise ValidationError(_("You already teach this course."), code="instructor")
    enrollment, _created = Enrollment.objects.get_or_create(course=course, student=user)
    return enrollment


def course_regenerate_join_code(*, course: Course, by: User) -> Course:
    """A new code; the old one stops working at once. Students already enrolled stay enrolled."""
    require_course_manager(by, course)
    for _attempt in range(5):
        course.join_code = new_join_code()
        try:
            with transaction.atomic():
                course.save(update_fields=["join_code"])
            return course
        except IntegrityError:  # the 31^8 space makes a clash rare, not impossible
            continue
    raise RuntimeError("could not find an unused join code")


def lecture_create(*, course: Course, by: User, title: str, scheduled_at: datetime) -> Lecture:
    require_course_manager(by, course)
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A lecture needs a title.")}, code="required")
    return Lecture.objects.create(
        course=course, title=title, scheduled_at=scheduled_at, created_by=by
    )


@transaction.atomic
def lecture_start(*, lecture: Lecture, by: User) -> Lecture:
    """Scheduled -> live. Captions can be broadcast only while a lecture is live."""
    require_course_manager(by, lecture.course)
    return lifecycle.change_status(
        lecture.pk,
        Lecture.Status.LIVE,
        refusal=_("Only a scheduled lecture can be started; this one is %(status)s."),
        started_at=timezone.now(),
    )


@transaction.atomic
def lecture_end(*, lecture: Lecture, by: User) -> Lecture:
    """Live -> ended. The captions stay; the broadcaster stores its last words and closes,
    viewers show "lecture ended", and the notes are computed afterwards (classroom.notes)."""
    require_course_manager(by, lecture.course)
    lecture = lifecycle.locked(lecture.pk)
    if lecture.status != Lecture.Status.LIVE:
        raise lifecycle.InvalidTransition(
            _("Only a live lecture can be ended; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    return lifecycle.change_status(lecture.pk, Lecture.Status.ENDED, ended_at=timezone.now())


RESUME_WINDOW = timedelta(minutes=15)


def lecture_can_resume(lecture: Lecture, *, now: datetime | None = None) -> bool:
    """A lecture ended by mistake may go live again for RESUME_WINDOW after its end: one that
    was held live (not made from an uploaded recording)."""
    if lecture.ended_at is None or lecture.started_at is None or lecture.recording:
        return False
    if not lifecycle.can_become(lecture, Lecture.Status.LIVE):
        return False
    return (now or timezone.now()) - lecture.ended_at <= RESUME_WINDOW


@transaction.atomic
def lecture_resume(*, lecture: Lecture, by: User) -> Lecture:
    """Ended -> live again, shortly after an end by mistake. The captions go on where they
    stopped (seqs continue); a notes run under way stands down, since it only stores its
    results on a lecture that is still processing (classroom.notes.process_lecture)."""
    require_course_manager(by, lecture.course)
    lecture = lifecycle.locked(lecture.pk)
    if not lecture_can_resume(lecture):
        raise lifecycle.InvalidTransition(
            _(
                "Only a lecture that was live and ended less than %(minutes)d minutes ago can "
                "be resumed."
            )
            % {"minutes": RESUME_WINDOW.seconds // 60},
            code="invalid_state",
        )
    return lifecycle.change_status(
        lecture.pk, Lecture.Status.LIVE, ended_at=None, failure_reason=""
    )


MAX_VOCABULARY_TERMS = 200
MAX_VOCABULARY_TERM_CHARS = 60


@transaction.atomic
def course_vocabulary_set(*, course: Course, by: User, vocabulary: str) -> Course:
    """The course's terms for speech recognition, one per line (commas also separate)."""
    require_course_manager(by, course)
    spaced = (" ".join(term.split()) for term in Course(vocabulary=vocabulary).vocabulary_terms())
    terms = list(dict.fromkeys(spaced))  # in the order given, without repeats
    if len(terms) > MAX_VOCABULARY_TERMS:
        raise ValidationError(
            _("At most %(max)d terms, please; this list has %(count)d.")
            % {"max": MAX_VOCABULARY_TERMS, "count": len(terms)},
            code="too_many",
        )
    long = [term for term in terms if len(term) > MAX_VOCABULARY_TERM_CHARS]
    if long:
        raise ValidationError(
            _("A term can have at most %(max)d characters: %(term)s")
            % {"max": MAX_VOCABULARY_TERM_CHARS, "term": long[0][:60]},
            code="too_long",
        )
    course.vocabulary = "\n".join(terms)
    course.save(update_fields=["vocabulary"])
    return course


@transaction.atomic
def course_captioner_add(*, course: Course, by: User, username: str) -> User:
    """Name someone (by username) who may correct this course's captions and so sees it."""
    require_course_manager(by, course)
    captioner = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if captioner is None:
        raise ValidationError(
            _("No active user is called %(name)s.") % {"name": username.strip()},
            code="unknown_user",
        )
    course.captioners.add(captioner)
    return captioner


@transaction.atomic
def course_captioner_remove(*, course: Course, by: User, captioner_id: int) -> None:
    require_course_manager(by, course)
    course.captioners.remove(captioner_id)
