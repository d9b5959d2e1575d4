"""Every write to courses, enrolments and lectures goes through here, permission checks included."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from captions.services import lecture_status_publish
from lectures import tasks
from lectures.models import JOIN_CODE_LENGTH, Course, Enrollment, Lecture, new_join_code
from lectures.selectors import can_manage_course


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


def _require_manager(user: User, course: Course) -> None:
    if not can_manage_course(user, course):
        raise PermissionDenied(_("Only the course's instructors can do this."))


def course_regenerate_join_code(*, course: Course, by: User) -> Course:
    """A new code; the old one stops working at once. Students already enrolled stay enrolled."""
    _require_manager(by, course)
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
    _require_manager(by, course)
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A lecture needs a title.")}, code="required")
    return Lecture.objects.create(
        course=course, title=title, scheduled_at=scheduled_at, created_by=by
    )


def _locked(lecture: Lecture) -> Lecture:
    return Lecture.objects.select_for_update().select_related("course").get(pk=lecture.pk)


@transaction.atomic
def lecture_start(*, lecture: Lecture, by: User) -> Lecture:
    """Scheduled -> live. Captions can be broadcast only while a lecture is live."""
    _require_manager(by, lecture.course)
    lecture = _locked(lecture)
    if lecture.status != Lecture.Status.SCHEDULED:
        raise ValidationError(
            _("Only a scheduled lecture can be started; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    lecture.status = Lecture.Status.LIVE
    lecture.started_at = timezone.now()
    lecture.save(update_fields=["status", "started_at"])
    lecture_status_publish(lecture)
    return lecture


@transaction.atomic
def lecture_end(*, lecture: Lecture, by: User) -> Lecture:
    """Live -> ended. The captions stay; the notes are computed afterwards."""
    _require_manager(by, lecture.course)
    lecture = _locked(lecture)
    if lecture.status != Lecture.Status.LIVE:
        raise ValidationError(
            _("Only a live lecture can be ended; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    lecture.status = Lecture.Status.ENDED
    lecture.ended_at = timezone.now()
    lecture.save(update_fields=["status", "ended_at"])
    # The broadcaster stores its last words and closes; viewers show "lecture ended".
    lecture_status_publish(lecture)
    # Captions the broadcaster stores after this queue another run (see segment_append).
    tasks.after_commit(tasks.process_lecture, lecture.pk)
    return lecture


@transaction.atomic
def lecture_reprocess(*, lecture: Lecture, by: User) -> Lecture:
    """Compute a finished lecture's notes again (after a failure, or after corrections)."""
    _require_manager(by, lecture.course)
    lecture = _locked(lecture)
    if lecture.status not in (Lecture.Status.ENDED, Lecture.Status.READY, Lecture.Status.FAILED):
        raise ValidationError(
            _("Notes can be computed again only for a finished lecture; this one is %(status)s.")
            % {"status": lecture.get_status_display()},
            code="invalid_state",
        )
    tasks.after_commit(tasks.process_lecture, lecture.pk)
    return lecture


@transaction.atomic
def course_captioner_add(*, course: Course, by: User, username: str) -> User:
    """Name someone (by username) who may correct this course's captions and so sees it."""
    _require_manager(by, course)
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
    _require_manager(by, course)
    course.captioners.remove(captioner_id)
