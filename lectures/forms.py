from django import forms
from django.utils.translation import gettext_lazy as _


class JoinCourseForm(forms.Form):
    join_code = forms.CharField(
        label=_("Join code"),
        max_length=32,
        help_text=_("The 8-character code your instructor shared, e.g. K7Q2M9XD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class LectureForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class VocabularyForm(forms.Form):
    vocabulary = forms.CharField(
        label=_("Course vocabulary"),
        required=False,
        max_length=20_000,
        help_text=_(
            "Names and terms of this course, one per line (e.g. 역전파, gradient descent). "
            "Speech recognition is given them as a hint, so they are spelled right."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
