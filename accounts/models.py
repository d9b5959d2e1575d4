from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _all_hangul(text: str) -> bool:
    return all("\uac00" <= ch <= "\ud7a3" for ch in text)


def full_name(first: str, last: str, *, language: str | None = None) -> str:
    """A person's name as the interface writes it. A Hangul name is always family name first
    with no space (김민수); other names are too in the Korean interface (Smith John), and given
    name first elsewhere (John Smith)."""
    first, last = first.strip(), last.strip()
    if not (first and last):
        return first or last
    if _all_hangul(first + last):
        return f"{last}{first}"
    if (language or get_language() or "").startswith("ko"):
        return f"{last} {first}"
    return f"{first} {last}"


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

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    def display_name(self) -> str:
        return self.get_full_name() or self.username


def request_user(request: Any) -> User:
    """The logged-in user of a page or API request (views call this behind login checks)."""
    user = request.user
    assert isinstance(user, User)
    return user
