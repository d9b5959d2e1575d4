from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassroomConfig(AppConfig):
    """What people do with lectures: the pages and API, the notes, recordings and exports.

    The top layer: it imports `lectures` and `captions`, and nothing imports it but
    `hearus_site`'s wiring.
    """

    name = "classroom"
    verbose_name = _("Classroom")

    def ready(self) -> None:
        # The tasks and the receivers that queue them (lecture ended, transcript changed).
        from classroom import audio_retention, journal_tasks, notes, recordings, recovery  # noqa: F401
