"""Live captions: who may broadcast or watch, appending finals, corrections, and telling every
viewer.

The pattern of zulip's actions: write in a transaction, then publish to the lecture's channel
layer group only once the write has committed (`lectures.events.publish_on_commit`), so a viewer
never sees a caption that could still roll back.
"""

import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from captions import events as caption_events
from captions.models import SegmentRevision, TranscriptSegment
from captions.protocol import CloseCode
from lectures import events
from lectures.models import Lecture
from lectures.selectors import can_correct_captions, can_manage_course, lectures_visible_to

logger = logging.getLogger(__name__)

PARTIAL_TTL_S = 120  # a partial older than this belongs to a broadcaster that vanished

# Sent inside the transaction that appended or corrected a caption (receivers queue work with
# on_commit): sender=TranscriptSegment, lecture=<Lecture, locked>, seq=<the caption's seq>.
# The notes (classroom.notes) listen: this layer does not know them.
transcript_changed = Signal()
# Sent when a broadcast connection's session has finished and released its journal segment:
# lecture_id=<int>. The kept audio (classroom.journal_tasks) listens: once the lecture is over,
# its segments are joined.
broadcast_finished = Signal()


def broadcast_finish(lecture_id: int) -> None:
    broadcast_finished.send(sender=Lecture, lecture_id=lecture_id)


def _delay_key(lecture_id: int) -> str:
    return f"hearus:lecture:{lecture_id}:delay"


def _partial_key(lecture_id: int) -> str:
    return f"hearus:lecture:{lecture_id}:partial"


def _viewers_key(lecture_id: int) -> str:
    return f"hearus:lecture:{lecture_id}:viewers"


# A count left behind by a server that died with viewers connected fades after this long.
VIEWERS_TTL_S = 6 * 3600


def viewer_joined(*, lecture: Lecture, user: User) -> bool:
    """Count a viewer of the lecture (not its instructors or captioners watching their own
    lecture); returns whether it was counted, so `viewer_left` is called exactly as often.
    The count lives in the shared cache (Redis in production), so every server adds to it."""
    if can_correct_captions(user, lecture.course):
        return False
    key = _viewers_key(lecture.pk)
    cache.add(key, 0, VIEWERS_TTL_S)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, VIEWERS_TTL_S)
    return True


def viewer_left(lecture_id: int) -> None:
    key = _viewers_key(lecture_id)
    try:
        if cache.decr(key) < 0:
            cache.set(key, 0, VIEWERS_TTL_S)
    except ValueError:  # already forgotten
        pass


def viewer_count(lecture_id: int) -> int:
    value = cache.get(_viewers_key(lecture_id), 0)
    return max(0, value) if isinstance(value, int) else 0


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
    events.publish_on_commit(
        lecture_id, caption_events.final_message(segment), handler=events.FINAL
    )
    transcript_changed.send(sender=TranscriptSegment, lecture=lecture, seq=segment.seq)
    return segment


MAX_CORRECTION_CHARS = 2000


@transaction.atomic
def segment_correct(*, lecture_id: int, seq: int, by: User, text: str) -> TranscriptSegment:
    """Replace a caption's text (live or afterwards), keeping what it said before in its
    history. Viewers get the new text at once; a finished lecture's notes are recomputed.

    Raises TranscriptSegment.DoesNotExist, PermissionDenied or ValidationError.
    """
    text = " ".join(text.split())
    if not text:
        raise ValidationError(_("A caption cannot be empty."), code="required")
    if len(text) > MAX_CORRECTION_CHARS:
        raise ValidationError(
            _("A caption can have at most %(max)d characters.") % {"max": MAX_CORRECTION_CHARS},
            code="max_length",
        )
    lecture = Lecture.objects.select_for_update().select_related("course").get(pk=lecture_id)
    if not can_correct_captions(by, lecture.course):
        raise PermissionDenied(_("Only the course's instructors and captioners correct captions."))
    segment = TranscriptSegment.objects.select_for_update().get(lecture=lecture, seq=seq)
    if segment.text == text:
        return segment
    SegmentRevision.objects.create(
        segment=segment, previous_text=segment.text, text=text, edited_by=by
    )
    segment.text = text
    segment.edited_at = timezone.now()
    segment.search_terms = ""  # indexed again with the notes
    segment.save(update_fields=["text", "edited_at", "search_terms"])
    lecture.transcript_revision += 1
    lecture.save(update_fields=["transcript_revision"])
    events.publish_on_commit(lecture_id, caption_events.edit_message(seq, text))
    if lecture.status != Lecture.Status.LIVE:  # live keywords wait for new captions
        transcript_changed.send(sender=TranscriptSegment, lecture=lecture, seq=seq)
    return segment


# Captions after a split move up by one seq; this offset first lifts them clear of the rows
# they move onto, since the one-seq-per-lecture constraint is checked row by row.
_RENUMBER_OFFSET = 1_000_000


@transaction.atomic
def segment_split(
    *, lecture_id: int, seq: int, by: User, first: str, second: str
) -> tuple[TranscriptSegment, TranscriptSegment]:
    """Cut caption `seq` in two: it keeps `first`, a new caption right after it gets `second`,
    and its time is shared by their lengths. Only after the lecture (the captions after it are
    renumbered, which a live viewer resuming by seq could not follow); the notes are computed
    again, and pages showing the lecture reload when they are ready. Both texts stay in the
    history: each part has a revision from the caption it came from.

    Raises TranscriptSegment.DoesNotExist, PermissionDenied or ValidationError.
    """
    first, second = " ".join(first.split()), " ".join(second.split())
    if not first or not second:
        raise ValidationError(_("Both parts of a split caption need text."), code="required")
    if max(len(first), len(second)) > MAX_CORRECTION_CHARS:
        raise ValidationError(
            _("A caption can have at most %(max)d characters.") % {"max": MAX_CORRECTION_CHARS},
            code="max_length",
        )
    lecture = Lecture.objects.select_for_update().select_related("course").get(pk=lecture_id)
    if not can_correct_captions(by, lecture.course):
        raise PermissionDenied(_("Only the course's instructors and captioners correct captions."))
    if lecture.status in (Lecture.Status.SCHEDULED, Lecture.Status.LIVE):
        raise ValidationError(
            _("Captions can be split once the lecture has ended."), code="invalid_state"
        )
    segment = TranscriptSegment.objects.select_for_update().get(lecture=lecture, seq=seq)
    original = segment.text
    later = TranscriptSegment.objects.filter(lecture=lecture, seq__gt=seq)
    later.update(seq=F("seq") + _RENUMBER_OFFSET)
    later = TranscriptSegment.objects.filter(lecture=lecture, seq__gt=_RENUMBER_OFFSET)
    later.update(seq=F("seq") - _RENUMBER_OFFSET + 1)
    cut = segment.start_ms + round(
        (segment.end_ms - segment.start_ms) * len(first) / (len(first) + len(second))
    )
    new = TranscriptSegment.objects.create(
        lecture=lecture, seq=seq + 1, start_ms=cut, end_ms=segment.end_ms, text=second
    )
    new.edited_at = timezone.now()
    new.save(update_fields=["edited_at"])
    segment.text, segment.end_ms, segment.edited_at = first, cut, timezone.now()
    segment.search_terms = ""
    segment.save(update_fields=["text", "end_ms", "edited_at", "search_terms"])
    SegmentRevision.objects.bulk_create(
        [
            SegmentRevision(segment=segment, previous_text=original, text=first, edited_by=by),
            SegmentRevision(segment=new, previous_text=original, text=second, edited_by=by),
        ]
    )
    lecture.transcript_revision += 1
    lecture.save(update_fields=["transcript_revision"])
    transcript_changed.send(sender=TranscriptSegment, lecture=lecture, seq=seq)
    return segment, new


@transaction.atomic
def segment_merge(*, lecture_id: int, seq: int, by: User) -> TranscriptSegment:
    """Join caption `seq` and the caption after it into one (a sentence that recognition
    split in two). The first keeps its seq and takes the joined text and both time spans; the
    second is removed. Nothing is forgotten: the first caption's history gains one revision
    per original text, and the second's earlier corrections move to it. Viewers get the new
    text and are told the second caption is gone.

    Raises TranscriptSegment.DoesNotExist (no such caption, or it is the last one),
    PermissionDenied or ValidationError.
    """
    lecture = Lecture.objects.select_for_update().select_related("course").get(pk=lecture_id)
    if not can_correct_captions(by, lecture.course):
        raise PermissionDenied(_("Only the course's instructors and captioners correct captions."))
    first = TranscriptSegment.objects.select_for_update().get(lecture=lecture, seq=seq)
    second = (
        TranscriptSegment.objects.select_for_update()
        .filter(lecture=lecture, seq__gt=seq)
        .order_by("seq")
        .first()
    )
    if second is None:
        raise TranscriptSegment.DoesNotExist("the last caption has none after it to merge with")
    text = f"{first.text} {second.text}"
    if len(text) > MAX_CORRECTION_CHARS:
        raise ValidationError(
            _("A caption can have at most %(max)d characters.") % {"max": MAX_CORRECTION_CHARS},
            code="max_length",
        )
    second.revisions.update(segment=first)
    SegmentRevision.objects.bulk_create(
        [
            SegmentRevision(segment=first, previous_text=first.text, text=text, edited_by=by),
            SegmentRevision(segment=first, previous_text=second.text, text=text, edited_by=by),
        ]
    )
    removed_seq = second.seq
    second.delete()
    first.text = text
    first.end_ms = max(first.end_ms, second.end_ms)
    first.edited_at = timezone.now()
    first.search_terms = ""
    first.save(update_fields=["text", "end_ms", "edited_at", "search_terms"])
    lecture.transcript_revision += 1
    lecture.save(update_fields=["transcript_revision"])
    events.publish_on_commit(lecture_id, caption_events.edit_message(seq, text))
    events.publish_on_commit(lecture_id, caption_events.remove_message(removed_seq, seq))
    if lecture.status != Lecture.Status.LIVE:  # live keywords wait for new captions
        transcript_changed.send(sender=TranscriptSegment, lecture=lecture, seq=seq)
    return first


async def _remember(key: str, value: object) -> None:
    """Keep `value` for late joiners; the cache is Redis, and a late joiner missing one value
    (replaced within seconds anyway) is no reason to fail the live path."""
    try:
        await sync_to_async(cache.set, thread_sensitive=False)(key, value, PARTIAL_TTL_S)
    except Exception:
        logger.warning("not cached: %s", key)


def _remembered(key: str, default: object) -> object:
    try:
        return cache.get(key, default)
    except Exception:
        return default


async def partial_publish(*, lecture_id: int, text: str) -> None:
    """The words heard but not yet final: kept for late joiners, sent to those watching.
    Partials change every second or so and never touch the database, so they stay on the
    event loop, off Django's single sync thread."""
    await _remember(_partial_key(lecture_id), text)
    await events.publish_async(lecture_id, caption_events.partial_message(text))


async def delay_publish(*, lecture_id: int, seconds: int) -> None:
    """Tell everyone on the lecture that captions are `seconds` behind (0: caught up); kept for
    late joiners like the partial."""
    await _remember(_delay_key(lecture_id), seconds)
    await events.publish_async(lecture_id, caption_events.delay_message(seconds))


def delay_get(lecture_id: int) -> int:
    value = _remembered(_delay_key(lecture_id), 0)
    return value if isinstance(value, int) else 0


def partial_get(lecture_id: int) -> str:
    value = _remembered(_partial_key(lecture_id), "")
    return value if isinstance(value, str) else ""


def finals_after(
    *, lecture_id: int, after_seq: int, before_seq: int | None = None
) -> list[dict[str, Any]]:
    """The stored captions with after_seq < seq (< before_seq, if given), as `final` messages."""
    segments = TranscriptSegment.objects.filter(lecture_id=lecture_id, seq__gt=after_seq)
    if before_seq is not None:
        segments = segments.filter(seq__lt=before_seq)
    return [caption_events.final_message(segment) for segment in segments.order_by("seq")]


def snapshot(*, lecture: Lecture, after_seq: int) -> dict[str, Any]:
    """What a (re)connecting viewer needs: every final after `after_seq`, and the partial."""
    # Plain rows, not model instances: a thousand viewers rejoining at once each read the
    # whole transcript (bench/reconnect_storm.py).
    finals = list(
        TranscriptSegment.objects.filter(lecture=lecture, seq__gt=after_seq)
        .order_by("seq")
        .values(*caption_events.FINAL_FIELDS)
    )
    return {
        "type": "snapshot",
        "lecture": {"id": lecture.pk, "title": lecture.title, "status": lecture.status},
        "finals": finals,
        "partial": partial_get(lecture.pk) if lecture.is_live else "",
        "delay_s": delay_get(lecture.pk) if lecture.is_live else 0,
        "keywords": current_keywords(lecture),
    }


def current_keywords(lecture: Lecture) -> list[dict[str, object]]:
    return [keyword.for_viewers() for keyword in lecture.keywords.order_by("rank")]
