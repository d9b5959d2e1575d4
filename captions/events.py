"""The caption messages viewers receive, each built here and nowhere else (the lecture's own
messages are in `lectures.events`). Consumers and snapshots forward them as they are."""

from __future__ import annotations

from captions.models import TranscriptSegment
from lectures.events import Message


def final_fields(segment: TranscriptSegment) -> Message:
    """A stored caption as viewers see it: in `final` messages and in a snapshot's `finals`."""
    return {
        "seq": segment.seq,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "text": segment.text,
    }


def final_message(segment: TranscriptSegment) -> Message:
    return {"type": "final", **final_fields(segment)}


def edit_message(seq: int, text: str) -> Message:
    return {"type": "edit", "seq": seq, "text": text}


def partial_message(text: str) -> Message:
    return {"type": "partial", "text": text}
