"""What everyone on a lecture's sockets is told, and how it reaches them.

Each message a viewer or broadcaster receives is built by one function (here, or in
`captions.events` for captions) as the exact JSON object sent on the wire. It travels through
the channel layer wrapped in an event whose `type` names the consumer handler, and consumers
forward `event["message"]` as it is (see `captions.consumers`).

Publishing happens after the write commits (zulip's `send_event_on_commit`), so no one is told
about a change that could still roll back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from lectures.models import Keyword

logger = logging.getLogger(__name__)

Message = dict[str, Any]

# Consumer handlers a message can be addressed to. Most messages are only forwarded; finals and
# status changes are also acted on (viewers deduplicate finals by seq, a broadcaster stops when
# the lecture is no longer live).
FORWARD = "lecture.message"
FINAL = "caption.final"
STATUS = "lecture.status"


def lecture_group(lecture_id: int) -> str:
    return f"lecture.{lecture_id}"


def as_event(message: Message, *, handler: str = FORWARD) -> dict[str, Any]:
    return {"type": handler, "message": message}


def publish(lecture_id: int, message: Message, *, handler: str = FORWARD) -> None:
    """Send now, from synchronous code (a task, a service after commit)."""
    async_to_sync(publish_async)(lecture_id, message, handler=handler)


async def publish_async(lecture_id: int, message: Message, *, handler: str = FORWARD) -> None:
    """Send now, from the event loop (partials never touch the database).

    Best-effort: what is published is already stored (or, for a partial, replaced within a
    second), so a channel layer that is down (Redis restarting) loses no caption: viewers read
    the stored ones from the database meanwhile and once it is back (captions.consumers).
    """
    layer = get_channel_layer()
    assert layer is not None
    try:
        await layer.group_send(lecture_group(lecture_id), as_event(message, handler=handler))
    except Exception:
        logger.warning(
            "not published: channel layer unavailable",
            extra={"lecture_id": lecture_id, "message_type": message.get("type")},
        )


def publish_on_commit(lecture_id: int, message: Message, *, handler: str = FORWARD) -> None:
    """Send once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish(lecture_id, message, handler=handler))


# -- the lecture's own messages -------------------------------------------------------------------


def status_message(status: str) -> Message:
    return {"type": "status", "status": status}


def keywords_message(keywords: Sequence[Keyword]) -> Message:
    return {"type": "keywords", "keywords": [keyword.for_viewers() for keyword in keywords]}


def progress_message(progress: dict[str, Any]) -> Message:
    """An uploaded recording's transcription progress (classroom.recordings)."""
    return {"type": "progress", **progress}
