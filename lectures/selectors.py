"""Who may see or change what: the one place that decides, for pages and API alike.

An object outside `*_visible_to(user)` does not exist for that user (404, never 403), so ids
cannot be probed. Inside it, `can_manage_course` separates readers from those who teach.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from lectures.models import Course, Enrollment, Lecture


def courses_visible_to(user: User) -> QuerySet[Course]:
    if not user.is_authenticated or not user.is_active:
        return Course.objects.none()
    if user.is_staff:
        return Course.objects.all()
    return Course.objects.filter(
        Q(instructors=user) | Q(enrollments__student=user) | Q(captioners=user)
    ).distinct()


def courses_taught_by(user: User) -> QuerySet[Course]:
    if not user.is_authenticated or not user.is_active:
        return Course.objects.none()
    return Course.objects.filter(instructors=user)


def can_manage_course(user: User, course: Course) -> bool:
    """Staff and the course's own instructors manage its lectures and join code."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or course.instructors.filter(pk=user.pk).exists()


def require_course_manager(user: User, course: Course) -> None:
    """For services: raise PermissionDenied unless `user` manages `course`."""
    if not can_manage_course(user, course):
        raise PermissionDenied(_("Only the course's instructors can do this."))


def can_correct_captions(user: User, course: Course) -> bool:
    """Those who manage the course, and the captioners its instructors named, fix captions."""
    if can_manage_course(user, course):
        return True
    return user.is_authenticated and course.captioners.filter(pk=user.pk).exists()


def lectures_visible_to(user: User) -> QuerySet[Lecture]:
    return Lecture.objects.filter(course__in=courses_visible_to(user)).select_related("course")


def enrollments_visible_to(user: User) -> QuerySet[Enrollment]:
    """Students see their own enrolments; instructors also those of the courses they teach."""
    if not user.is_authenticated or not user.is_active:
        return Enrollment.objects.none()
    qs = Enrollment.objects.select_related("course", "student")
    if user.is_staff:
        return qs
    return qs.filter(Q(student=user) | Q(course__instructors=user)).distinct()


def course_lectures_by_state(course: Course) -> dict[str, list[Lecture]]:
    """A course page's three lists: live now, coming up (soonest first), past (newest first)."""
    lectures = list(course.lectures.all())
    live = [lec for lec in lectures if lec.is_live]
    upcoming = sorted(
        (lec for lec in lectures if lec.status == Lecture.Status.SCHEDULED),
        key=lambda lec: lec.scheduled_at,
    )
    past = [lec for lec in lectures if lec.is_past]
    return {"live": live, "upcoming": upcoming, "past": past}
