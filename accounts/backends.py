"""Staff (`is_staff`) manage Hearus in the admin without per-model grants; superusers alone
manage who is staff.

Django's admin asks for a permission per model and action; Hearus has one kind of staff, so
the rule lives here instead of in groups that someone must remember to assign. Staff get every
permission of the Hearus apps (courses, lectures, enrolments, captions) and may manage ordinary
users; they get nothing of `auth` (groups, permissions) or of the API tokens (`knox`), and
`accounts.admin.UserAdmin` keeps `is_staff`, `is_superuser`, groups and permissions read-only
for them and other staff accounts out of their reach. Superusers pass every check in
Django's own `ModelBackend`.
"""

from typing import Any

from django.contrib.auth.backends import BaseBackend

HEARUS_APPS = frozenset({"accounts", "lectures", "captions"})


class StaffBackend(BaseBackend):
    def has_perm(self, user_obj: Any, perm: str, obj: object = None) -> bool:
        app_label = perm.split(".", 1)[0]
        return self.has_module_perms(user_obj, app_label)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(user_obj.is_active and user_obj.is_staff and app_label in HEARUS_APPS)
