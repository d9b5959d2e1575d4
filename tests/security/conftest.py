"""The websocket helpers of the caption tests, for the attacks here."""

from tests.captions.conftest import sockets

__all__ = ["sockets"]
