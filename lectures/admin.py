from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lectures.models import Course, Enrollment, Lecture
from lectures.services import course_regenerate_join_code


class EnrollmentInline(admin.TabularInline[Enrollment, Course]):
    model = Enrollment
    extra = 0
    autocomplete_fields = ("student",)
    readonly_fields = ("created_at",)


class LectureInline(admin.TabularInline[Lecture, Course]):
    model = Lecture
    extra = 0
    fields = ("title", "scheduled_at", "status", "started_at", "ended_at")
    readonly_fields = ("started_at", "ended_at")
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin[Course]):
    list_display = ("code", "title", "language", "instructor_names", "student_count", "join_code")
    list_filter = ("language", "instructors")
    search_fields = ("code", "title", "instructors__username", "instructors__last_name")
    filter_horizontal = ("instructors", "captioners")
    readonly_fields = ("join_code", "created_at")
    inlines = (EnrollmentInline, LectureInline)
    actions = ("regenerate_join_codes",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("instructors")
            .annotate(student_total=Count("enrollments", distinct=True))
        )

    @admin.display(description=_("instructors"))
    def instructor_names(self, course: Course) -> str:
        return ", ".join(user.get_full_name() or user.username for user in course.instructors.all())

    @admin.display(description=_("students"), ordering="student_total")
    def student_count(self, course: Course) -> int:
        return int(getattr(course, "student_total", 0))

    @admin.action(description=_("Regenerate the join codes of the selected courses"))
    def regenerate_join_codes(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        count = 0
        for course in queryset:
            course_regenerate_join_code(course=course, by=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d join code regenerated.", "%(count)d join codes regenerated.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin[Enrollment]):
    list_display = ("student", "course", "created_at")
    list_filter = ("course",)
    search_fields = ("student__username", "student__email", "course__code", "course__title")
    autocomplete_fields = ("student", "course")
    list_select_related = ("student", "course")
    date_hierarchy = "created_at"


@admin.register(Lecture)
class LectureAdmin(admin.ModelAdmin[Lecture]):
    list_display = ("title", "course", "scheduled_at", "status", "started_at", "ended_at")
    list_filter = ("status", "course")
    search_fields = ("title", "course__code", "course__title")
    autocomplete_fields = ("course",)
    readonly_fields = ("created_at", "created_by")
    list_select_related = ("course",)
    date_hierarchy = "scheduled_at"
