"""Daphne's transport, bounded: request bodies over REQUEST_MAX_BYTES are refused from their
headers, and websocket messages over Daphne's limit get the protocol's 4413.

HTTP: Daphne (through Twisted) reads a request's whole body, then hands all of it to the
application at once, in memory; a 520 MB upload took the process from 1 GB to 8 GB. Here a
request that declares a larger Content-Length gets 413 at once, before its body is read, and
a chunked one is cut off once it passes the limit. Large recordings come in parts instead
(`classroom.uploads`).

Websockets: see `WebSocketProtocol` below.

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

import io
import json
from typing import Any

from daphne import http_protocol, ws_protocol
from django.conf import settings

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


class WebRequest(http_protocol.WebRequest):
    """Daphne's HTTP request, refusing a body over REQUEST_MAX_BYTES before reading it."""

    body_bytes = 0
    refused = False

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > settings.REQUEST_MAX_BYTES:
            self.refuse_too_large()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_bytes += len(data)
        if self.body_bytes > settings.REQUEST_MAX_BYTES:
            self.refuse_too_large()
            return
        super().handleContentChunk(data)

    def process(self) -> Any:
        if self.refused:  # the rest of the body arrived before the connection closed
            return None
        return super().process()

    def refuse_too_large(self) -> None:
        """413 straight onto the connection, which is then closed: the application never
        sees this request."""
        self.refused = True
        self.content = io.BytesIO()
        body = json.dumps(
            {
                "detail": [
                    f"Requests are at most {settings.REQUEST_MAX_BYTES} bytes. Upload large "
                    "recordings in parts: POST /api/lectures/<id>/recording/uploads/."
                ],
                "code": "too_large",
            }
        ).encode()
        head = (
            "HTTP/1.1 413 Request Entity Too Large\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        self.channel.transport.write(head + body)
        self.channel.transport.loseConnection()


def install() -> None:
    ws_protocol.WebSocketFactory.protocol = WebSocketProtocol
    http_protocol.WebRequest = WebRequest  # HTTPFactory.buildProtocol reads this name
