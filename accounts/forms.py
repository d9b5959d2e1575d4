from typing import Any

from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import get_language

from accounts.models import User


class SignUpForm(UserCreationForm[User]):
    """Self sign-up always makes a student; staff promote instructors in the admin. The Korean
    form asks the family name (성) before the given name (이름), as Korean forms do."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if (get_language() or "").startswith("ko"):
            self.order_fields(["username", "last_name", "first_name", "email"])
