"""Live captions: who may broadcast or watch, appending finals, and telling every viewer.

The pattern of zulip's actions: write in a transaction, then publish to the lecture's channel
layer group only once the write has committed, so a viewer never sees a caption that could
still roll back.
"""

from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from accounts.models import User
from captions.models import TranscriptSegment
from captions.protocol import CloseCode
from lectures.models import Lecture
from lectures.selectors import can_manage_course, lectures_visible_to

PARTIAL_TTL_S = 120  # a partial older than this belongs to a broadcaster that vanished


def lecture_group(lecture_id: int) -> str:
    return f"lecture.{lecture_id}"


def _partial_key(lecture_id: int) -> str:
    return f"hearus:lecture:{lecture_id}:partial"


@dataclass(frozen=True)
class Admission:
    lecture: Lecture | None
    refusal: CloseCode | None


def admit_viewer(user: User, lecture_id: int) -> Admission:
    """Anyone who may see the lecture (enrolled students, its instructors, staff) may watch."""
    if not user.is_authenticated:
        return Admission(None, CloseCode.UNAUTHENTICATED)
    lecture = lectures_visible_to(user).filter(pk=lecture_id).first()
    if lecture is None:
        return Admission(None, CloseCode.NOT_FOUND)
    return Admission(lecture, None)


def admit_broadcaster(user: User, lecture_id: int) -> Admission:
    """Only the course's instructors (and staff) broadcast, and only while the lecture is live."""
    admission = admit_viewer(user, lecture_id)
    if admission.lecture is None:
        return admission
    if not can_manage_course(user, admission.lecture.course):
        return Admission(None, CloseCode.FORBIDDEN)
    if admission.lecture.status != Lecture.Status.LIVE:
        return Admission(None, CloseCode.NOT_LIVE)
    return admission


@transaction.atomic
def broadcaster_claim(*, lecture_id: int, channel_name: str) -> str:
    """Make `channel_name` the lecture's broadcaster; return the one it replaces ('' if none).

    Takeover rule: the newest connection wins. An instructor whose old socket is half-dead
    (laptop asleep, network switched) must never be locked out of their own lecture.
    """
    lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
    previous = lecture.broadcaster_channel
    lecture.broadcaster_channel = channel_name
    lecture.save(update_fields=["broadcaster_channel"])
    return previous if previous != channel_name else ""


def broadcaster_release(*, lecture_id: int, channel_name: str) -> bool:
    """Forget the broadcaster, unless another connection has taken over meanwhile."""
    released = Lecture.objects.filter(pk=lecture_id, broadcaster_channel=channel_name).update(
        broadcaster_channel=""
    )
    return released > 0


def _publish(lecture_id: int, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None
    async_to_sync(layer.group_send)(lecture_group(lecture_id), event)


def final_event(segment: TranscriptSegment) -> dict[str, Any]:
    return {
        "type": "caption.final",
        "seq": segment.seq,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "text": segment.text,
    }


@transaction.atomic
def segment_append(*, lecture_id: int, start_ms: int, end_ms: int, text: str) -> TranscriptSegment:
    """Store a final caption with the lecture's next seq, then publish it after commit."""
    text = text.strip()
    if not text:
        raise ValueError("a caption needs text")
    start_ms = max(0, start_ms)
    end_ms = max(start_ms, end_ms)
    # The row lock serializes appends per lecture, so seqs are gapless and in order.
    lecture = Lecture.objects.select_for_update().get(pk=lecture_id)
    last_seq = lecture.segments.aggregate(last=Max("seq"))["last"] or 0
    segment = TranscriptSegment.objects.create(
        lecture=lecture, seq=last_seq + 1, start_ms=start_ms, end_ms=end_ms, text=text
    )
    event = final_event(segment)
    transaction.on_commit(lambda: _publish(lecture_id, event))
    return segment


def partial_set(*, lecture_id: int, text: str) -> None:
    """The words heard but not yet final: kept for late joiners, sent to those watching."""
    async_to_sync(partial_publish)(lecture_id=lecture_id, text=text)


async def partial_publish(*, lecture_id: int, text: str) -> None:
    """`partial_set` for the event loop: partials change every second or so and never touch
    the database, so they stay off Django's single sync thread."""
    await sync_to_async(cache.set, thread_sensitive=False)(
        _partial_key(lecture_id), text, PARTIAL_TTL_S
    )
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(lecture_group(lecture_id), {"type": "caption.partial", "text": text})


def partial_get(lecture_id: int) -> str:
    value = cache.get(_partial_key(lecture_id), "")
    return value if isinstance(value, str) else ""


def snapshot(*, lecture: Lecture, after_seq: int) -> dict[str, Any]:
    """What a (re)connecting viewer needs: every final after `after_seq`, and the partial."""
    finals = [
        {"seq": s.seq, "start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text}
        for s in TranscriptSegment.objects.filter(lecture=lecture, seq__gt=after_seq).order_by(
            "seq"
        )
    ]
    return {
        "type": "snapshot",
        "lecture": {"id": lecture.pk, "title": lecture.title, "status": lecture.status},
        "finals": finals,
        "partial": partial_get(lecture.pk) if lecture.is_live else "",
    }


def lecture_status_publish(lecture: Lecture) -> None:
    """Tell everyone on the lecture that its status changed (live, ended...), after commit."""
    lecture_id, status = lecture.pk, lecture.status
    if status != Lecture.Status.LIVE:
        cache.delete(_partial_key(lecture_id))
    transaction.on_commit(
        lambda: _publish(lecture_id, {"type": "lecture.status", "status": status})
    )
