from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A Hearus user. Staff rights come from `is_staff`; the role says who teaches."""

    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        INSTRUCTOR = "instructor", _("Instructor")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STUDENT)
    # Font size, line height, contrast and position of live captions (accounts.preferences).
    caption_preferences = models.JSONField(_("caption preferences"), default=dict, blank=True)

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR

    def display_name(self) -> str:
        return self.get_full_name() or self.username


def request_user(request: Any) -> User:
    """The logged-in user of a page or API request (views call this behind login checks)."""
    user = request.user
    assert isinstance(user, User)
    return user
