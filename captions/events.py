"""The caption messages viewers receive, each built here and nowhere else (the lecture's own
messages are in `lectures.events`). Consumers and snapshots forward them as they are."""

from __future__ import annotations

from captions.models import TranscriptSegment
from lectures.events import Message

# A stored caption as viewers see it, in `final` messages and in a snapshot's `finals`.
FINAL_FIELDS = ("seq", "start_ms", "end_ms", "text")


def final_fields(segment: TranscriptSegment) -> Message:
    return {name: getattr(segment, name) for name in FINAL_FIELDS}


def final_message(segment: TranscriptSegment) -> Message:
    return {"type": "final", **final_fields(segment)}


def edit_message(seq: int, text: str) -> Message:
    return {"type": "edit", "seq": seq, "text": text}


def remove_message(seq: int, merged_into: int) -> Message:
    """Caption `seq` was merged into caption `merged_into` (captions.services.segment_merge)."""
    return {"type": "remove", "seq": seq, "merged_into": merged_into}


def partial_message(text: str) -> Message:
    return {"type": "partial", "text": text}


def delay_message(seconds: int) -> Message:
    """Captions are `seconds` behind the speech (0: caught up again)."""
    return {"type": "delay", "seconds": seconds}
