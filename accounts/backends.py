"""Staff (`is_staff`) manage everything of Hearus in the admin without per-model grants.

Django's admin asks for a permission per model and action; Hearus has one kind of staff, so
the rule lives here instead of in groups that someone must remember to assign.
"""

from typing import Any

from django.contrib.auth.backends import BaseBackend

HEARUS_APPS = frozenset({"accounts", "lectures", "captions", "authtoken"})


class StaffBackend(BaseBackend):
    def has_perm(self, user_obj: Any, perm: str, obj: object = None) -> bool:
        app_label = perm.split(".", 1)[0]
        return self.has_module_perms(user_obj, app_label)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(user_obj.is_active and user_obj.is_staff and app_label in HEARUS_APPS)
