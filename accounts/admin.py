from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User

admin.site.site_header = _("Hearus administration")
admin.site.site_title = _("Hearus administration")
admin.site.index_title = _("Courses, lectures and people")


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ("username", "email", "last_name", "first_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), (_("Hearus"), {"fields": ("role",)}))
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Hearus"), {"fields": ("role", "email", "first_name", "last_name")}),
    )
