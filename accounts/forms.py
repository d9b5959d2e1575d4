from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignUpForm(UserCreationForm[User]):
    """Self sign-up always makes a student; staff promote instructors in the admin."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")
