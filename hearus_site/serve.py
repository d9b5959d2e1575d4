"""Daphne with a graceful stop: the command of the `web` and `live` containers.

    python -m hearus_site.serve -b 0.0.0.0 -p 8000 hearus_site.asgi:application

It takes Daphne's own arguments. On SIGTERM it first drains this process's broadcasts (each is
hung up with 1012 so the browser reconnects elsewhere, then its captions are stored: see
`captions.drain`), for at most DRAIN_TIMEOUT_S, and only then stops Daphne, which closes the
remaining sockets (viewers reconnect with `?after=` and miss nothing). Plain `daphne` would cancel
the broadcasts at once and lose what they had heard but not yet committed.
"""

import asyncio
import logging
import signal
import sys
from types import FrameType
from typing import Any

from captions.drain import drain_broadcasts

logger = logging.getLogger(__name__)

# Kubernetes waits terminationGracePeriodSeconds (90 s for `live`) after its preStop pause
# (10 s): the drain must end well inside that. Finishing a session transcribes at most ~20 s of
# buffered audio, and the lectures of one process share its one ASR thread.
DRAIN_TIMEOUT_S = 60.0
# Daphne rejects a websocket whose handshake the application has not answered within 5 s. After a
# deploy a thousand students reconnect at once and admission queues for longer than that on a
# small pod; a reader would rather wait a few seconds more than be refused and retry.
WEBSOCKET_CONNECT_TIMEOUT_S = 30

_stopping = False


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _stopping
    if _stopping:
        return
    _stopping = True
    _reactor().callFromThread(_start_drain)


def _start_drain() -> None:
    asyncio.get_running_loop().create_task(_drain_then_stop())


async def _drain_then_stop() -> None:
    try:
        drained = await drain_broadcasts(DRAIN_TIMEOUT_S)
        logger.info("SIGTERM: drained %d broadcast(s), stopping", drained)
    except Exception:
        logger.exception("SIGTERM: draining the broadcasts failed, stopping anyway")
    finally:
        _reactor().stop()


def _take_over_sigterm() -> None:
    """Runs once the reactor is running, after Twisted installed its own handlers."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def daphne_arguments(argv: list[str]) -> list[str]:
    """Daphne's arguments with this product's defaults where the command line sets none."""
    if any(arg.startswith("--websocket_connect_timeout") for arg in argv):
        return argv
    return ["--websocket_connect_timeout", str(WEBSOCKET_CONNECT_TIMEOUT_S), *argv]


def main() -> None:
    from daphne.cli import CommandLineInterface  # installs Twisted's asyncio reactor first

    _reactor().callWhenRunning(_take_over_sigterm)
    CommandLineInterface().run(daphne_arguments(sys.argv[1:]))


if __name__ == "__main__":
    main()
