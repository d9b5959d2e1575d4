"""The lecture's lifecycle: its states, the moves between them, and who is told.

    scheduled ──start──> live ──end──> ended ──notes──> processing ──> ready
                          ^                                               (any finished state
                          └── resume, within 15 min of an end by mistake ─ of a live lecture)
        │                                ^                  │  ^  │
        └──recording uploaded──> processing ─transcribed─┘  │  │  └──> failed
                                                             │  └── reprocess, new upload
                                                             └── (a recording's transcript)

Every change of `Lecture.status` goes through `change_status`: under the lecture's row lock, it
checks the move against `TRANSITIONS`, saves, tells everyone on the lecture after commit and
sends `status_changed` so that the layers above (the notes, in `classroom`) can react without
this module knowing them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from lectures import events
from lectures.models import Lecture

Status = Lecture.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SCHEDULED: frozenset({Status.LIVE, Status.PROCESSING}),
    Status.LIVE: frozenset({Status.ENDED}),
    # -> live: resumed shortly after an end by mistake (lectures.services.lecture_resume, which
    # also checks the time and that it was held live); a notes run under way stands down.
    Status.ENDED: frozenset({Status.PROCESSING, Status.FAILED, Status.LIVE}),
    # Processing an uploaded recording ends with its transcript stored (-> ended, then notes).
    Status.PROCESSING: frozenset({Status.ENDED, Status.READY, Status.FAILED, Status.LIVE}),
    Status.READY: frozenset({Status.PROCESSING, Status.FAILED, Status.LIVE}),
    # Failed again keeps the newest reason; ended again retries only the notes.
    Status.FAILED: frozenset({Status.PROCESSING, Status.ENDED, Status.FAILED, Status.LIVE}),
}

# Sent inside the transaction that changed the status (receivers queue work with on_commit):
# sender=Lecture, lecture=<Lecture, saved>, previous=<status before>.
status_changed = Signal()


class InvalidTransition(ValidationError):
    """The lecture is in a state from which it cannot make this move."""


def locked(lecture_id: int) -> Lecture:
    """The lecture, row-locked until the current transaction ends."""
    return Lecture.objects.select_for_update().select_related("course").get(pk=lecture_id)


def can_become(lecture: Lecture, status: str) -> bool:
    return status in TRANSITIONS[lecture.status]


@transaction.atomic
def change_status(lecture_id: int, status: str, *, refusal: str = "", **fields: Any) -> Lecture:
    """Move the lecture to `status`, setting `fields` with it; return it, saved and locked.

    Raises InvalidTransition (a ValidationError with code invalid_state) when the move is not
    in TRANSITIONS; `refusal` is its message, with `%(status)s` standing for the current
    status's name.
    """
    lecture = locked(lecture_id)
    previous = lecture.status
    if not can_become(lecture, status):
        message = refusal or _("A lecture that is %(status)s cannot become %(new)s.")
        raise InvalidTransition(
            message % {"status": lecture.get_status_display(), "new": Status(status).label},
            code="invalid_state",
        )
    lecture.status = status
    lecture.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(lecture, name, value)
    lecture.save(update_fields=["status", "status_changed_at", *fields])
    events.publish_on_commit(
        lecture.pk, events.status_message(lecture.status), handler=events.STATUS
    )
    status_changed.send(sender=Lecture, lecture=lecture, previous=previous)
    return lecture
