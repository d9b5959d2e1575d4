"""Stopping a process that holds broadcasts without losing the last captions.

Kubernetes (or compose) stops a pod with SIGTERM. Daphne's own reaction is to cancel every
consumer at once, which would throw away the audio a broadcast had heard but not yet committed
(up to ~20 s). `hearus_site.serve` instead calls `drain_broadcasts()` first: every broadcast is
hung up with close code 1012 (service restart), so the instructor's browser keeps its audio and
reconnects to another pod, and then its session is finished, which stores every caption heard.
"""

import asyncio
import logging
from typing import Protocol
from weakref import WeakSet

logger = logging.getLogger(__name__)

SERVICE_RESTART = 1012  # RFC 6455 registry: "the server is restarting, reconnect"


class Drainable(Protocol):
    async def drain(self) -> None: ...


_broadcasts: "WeakSet[Drainable]" = WeakSet()


def register(broadcast: Drainable) -> None:
    """A broadcast with a running session; forgotten by itself once the consumer is gone."""
    _broadcasts.add(broadcast)


async def drain_broadcasts(timeout_s: float) -> int:
    """Hang up every broadcast of this process and store what it heard; return how many."""
    broadcasts = list(_broadcasts)
    _broadcasts.clear()
    if not broadcasts:
        return 0
    results = await asyncio.wait_for(
        asyncio.gather(*(b.drain() for b in broadcasts), return_exceptions=True), timeout_s
    )
    for result in results:
        if isinstance(result, BaseException):
            logger.error("a broadcast failed to drain", exc_info=result)
    return len(broadcasts)
