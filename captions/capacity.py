"""How many live lectures this process takes, and the refusal beyond it (issue: capacity is
known and respected).

The capacity comes from `LIVE_CAPACITY` when set, else from what this process's decodes
measurably cost (`ml.capacity.PROCESS_METER`: lectures whose summed real-time factor stays
under 0.8), probed once on the first broadcast. At least one lecture is always taken: a slow
machine captions late (and says so) rather than not at all.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings

from captions import metrics
from ml.asr import SpeechRecognizer
from ml.capacity import PROCESS_METER, probe_call_cost

# Broadcast sessions in this process by lecture (captions.live registers them); during a
# takeover a lecture briefly has two.
_sessions: Counter[int] = Counter()


def session_started(lecture_id: int) -> None:
    _sessions[lecture_id] += 1


def session_ended(lecture_id: int) -> None:
    _sessions[lecture_id] -= 1
    if _sessions[lecture_id] <= 0:
        del _sessions[lecture_id]


def lectures_carried() -> int:
    return len(_sessions)


def known_capacity() -> int | None:
    """The capacity as known now, without probing (None before the first broadcast)."""
    configured = int(settings.LIVE_CAPACITY)
    if configured > 0:
        return configured
    estimate = PROCESS_METER.estimate()
    return None if estimate is None else max(1, estimate.lectures)


def capacity(engine: SpeechRecognizer) -> int:
    """Live lectures this process takes (at least 1); probes the engine once if needed.
    Blocking (a probe runs Whisper): call it on the ASR thread."""
    configured = int(settings.LIVE_CAPACITY)
    if configured > 0:
        lectures = configured
    else:
        estimate = PROCESS_METER.estimate()
        if estimate is None:
            PROCESS_METER.record_probe(probe_call_cost(engine))
            estimate = PROCESS_METER.estimate()
        lectures = estimate.lectures if estimate is not None else 1
    lectures = max(1, lectures)
    metrics.LIVE_CAPACITY.set(lectures)
    return lectures


def refuses(lecture_id: int, engine: SpeechRecognizer) -> bool:
    """Whether a new broadcast of `lecture_id` is beyond this process's capacity (a lecture
    already broadcasting here, taken over by a new connection, is never refused)."""
    if lecture_id in _sessions:
        return False
    return lectures_carried() >= capacity(engine)
