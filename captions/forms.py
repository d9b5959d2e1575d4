from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from captions.services import MAX_CORRECTION_CHARS
from lectures.models import Course
from lectures.selectors import courses_visible_to


class SearchForm(forms.Form):
    """The search page's query: words, and optionally one of the user's courses and a date range.
    A course the user cannot see is rejected exactly like an id that does not exist."""

    q = forms.CharField(
        label=_("Search for"),
        max_length=200,
        required=False,
        help_text=_("Words said in a lecture, e.g. 인공지능 or gradient. All words must match."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    course = forms.ModelChoiceField(
        label=_("Course"),
        queryset=Course.objects.none(),
        required=False,
        empty_label=_("All my courses"),
    )
    date_from = forms.DateField(
        label=_("Lectures from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Lectures until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        course_field = self.fields["course"]
        assert isinstance(course_field, forms.ModelChoiceField)
        course_field.queryset = courses_visible_to(user)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class CorrectionForm(forms.Form):
    text = forms.CharField(
        label=_("Corrected caption"),
        max_length=MAX_CORRECTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The earlier text stays in the history below."),
    )
