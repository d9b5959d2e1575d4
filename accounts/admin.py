from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User

admin.site.site_header = _("Hearus administration")
admin.site.site_title = _("Hearus administration")
admin.site.index_title = _("Courses, lectures and people")

# Who is staff and what they may do: superusers only (see accounts.backends).
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _is_privileged(user: User) -> bool:
    return user.is_staff or user.is_superuser


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    """Staff manage ordinary users (students, instructors); superusers manage everyone. A
    staff member never changes a privilege, nor the account (or password) of another staff
    member or superuser, and can therefore never raise their own rights."""

    list_display = ("username", "email", "last_name", "first_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), (_("Hearus"), {"fields": ("role",)}))
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Hearus"), {"fields": ("role", "email", "first_name", "last_name")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, *PRIVILEGE_FIELDS, "last_login", "date_joined")

    def _may_touch(self, request: HttpRequest, obj: User | None) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        # Their own account (privileges read-only) or an ordinary user's.
        return obj.pk == request.user.pk or not _is_privileged(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The list's bulk delete: staff never delete a staff account or a superuser."""
        if not request.user.is_superuser and any(_is_privileged(user) for user in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)
