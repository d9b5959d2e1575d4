"""Websocket messages over Daphne's transport limit get the protocol's 4413, not a dropped TCP
connection.

Daphne (through autobahn) refuses a websocket message larger than its
`--websocket-max-message-size` (1 MiB by default) before the application ever sees it, and by
default fails the connection by dropping TCP: the client gets no close frame, and a
broadcaster cannot tell a too-large frame from a network failure. Messages between the
protocol's own limits (captions.protocol: 4,096-byte text, 16,000-byte frames) and the
transport's are refused by the consumers; this makes the transport refuse the rest the same
way: an `error` message, then a close with 4413 (docs/protocol.md, "Close codes"). The rest of
the oversized message is read and thrown away, never buffered; the application then gets its
ordinary disconnect, so a broadcast still stores everything it heard.

`install()` runs when `hearus_site.asgi` is imported, which Daphne does before it starts
listening (`daphne`, `python -m hearus_site.serve` and `manage.py runserver` alike).
"""

from typing import Any

from daphne import ws_protocol

from captions.protocol import CloseCode, viewer_message

TOO_LARGE_REASON = "message over the server's transport limit"
# autobahn waits 1 s for the client's answer to a close, then resets the connection; a client
# still sending (audio frames, or the rest of an oversized message) on a slow link could lose
# the close frame, code included, to that reset. Give it longer.
CLOSE_HANDSHAKE_TIMEOUT_S = 5.0


class WebSocketProtocol(ws_protocol.WebSocketProtocol):
    def _connectionMade(self) -> None:
        super()._connectionMade()  # copies the factory's options onto this connection
        self.closeHandshakeTimeout = CLOSE_HANDSHAKE_TIMEOUT_S

    def _max_message_size_exceeded(self, msg_size: int, max_msg_size: int, reason: Any) -> None:
        code = int(CloseCode.FRAME_TOO_LARGE)
        error = viewer_message("error", code=code, reason=f"{TOO_LARGE_REASON} ({max_msg_size})")
        self.sendMessage(error.encode(), False)
        # From here autobahn reads the rest of the message and discards it, frame by frame.
        self.failedByMe = True
        self.sendCloseFrame(code=code, reasonUtf8=TOO_LARGE_REASON.encode())


def install() -> None:
    ws_protocol.WebSocketFactory.protocol = WebSocketProtocol
