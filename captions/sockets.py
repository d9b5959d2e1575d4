"""What the viewer and broadcaster sockets share (`LectureSocket`): refusing with a documented
close code, forwarding the lecture's messages, outliving a channel-layer outage, and leaving no
trace (group membership, gauges) however the socket ends. The two consumers are in
`captions.consumers`."""

import asyncio
import contextlib
import json
import logging
import time
from functools import partial
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from captions.protocol import CloseCode, viewer_message
from lectures import events

logger = logging.getLogger(__name__)


# Reads that only look (admission, a viewer's snapshot) run on the thread pool, several at once,
# not queued on Django's single sync thread: a thousand viewers reconnecting after a deploy must
# all be admitted within seconds. Writes keep the single thread (database_sync_to_async).
concurrent_read = partial(database_sync_to_async, thread_sensitive=False)

# How long a consumer that is being torn down may take to leave its group.
RELEASE_TIMEOUT_S = 5.0
# While the channel layer is down, how often it is tried again (and viewers read the database).
LAYER_RETRY_S = 1.0


class LectureSocket(AsyncWebsocketConsumer):
    """What both sockets share: refusing with a documented close code, lecture events, and
    leaving no trace when the socket goes, however it goes."""

    lecture_id: int
    group: str = ""
    closing = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' own loop, with two differences:

        - the channel layer may fail (Redis restarting) without ending the socket: the
          consumer waits for it to come back (`_receive_from_layer`), meanwhile storing and
          reading captions through the database, which is all they need;
        - Daphne cancels a consumer that has not finished 10 s after its client went (under
          load, or mid-admission), and `disconnect` then never runs: whatever happens, the
          consumer leaves its group and the gauges, so neither counts sockets that are gone.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        try:
            await await_many_dispatch([receive, self._receive_from_layer], self.dispatch)
        except StopConsumer:
            pass
        finally:
            await asyncio.shield(self.release())

    async def _receive_from_layer(self) -> dict[str, Any]:
        while True:
            try:
                message: dict[str, Any] = await self.channel_layer.receive(self.channel_name)
                return message
            except Exception:
                await self._outlive_layer_outage()

    async def _outlive_layer_outage(self) -> None:
        """Until the channel layer answers again: serve what the database has, then join
        again (a restarted Redis has forgotten the groups) and catch up."""
        started = time.monotonic()
        logger.warning(
            "channel layer unavailable; captions go on through the database",
            extra={"lecture_id": getattr(self, "lecture_id", None)},
        )
        while True:
            await self.layer_unavailable()
            await asyncio.sleep(LAYER_RETRY_S)
            try:
                if self.group:
                    await self.channel_layer.group_add(self.group, self.channel_name)
                else:
                    await self.channel_layer.send(self.channel_name, {"type": "layer.probe"})
            except Exception:
                continue
            logger.info(
                "channel layer back", extra={"outage_s": round(time.monotonic() - started, 1)}
            )
            await self.layer_back()
            return

    async def layer_probe(self, event: dict[str, Any]) -> None:
        """The message a consumer sent itself to learn that the layer is back."""

    async def layer_unavailable(self) -> None:
        """Called every LAYER_RETRY_S while the channel layer is down."""

    async def layer_back(self) -> None:
        """The channel layer answers again (and the lecture's group has this socket again)."""

    async def release(self) -> None:
        """Leave the lecture's group (once). Subclasses also give back what they counted."""
        group, self.group = self.group, ""
        if group:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.channel_layer.group_discard(group, self.channel_name), RELEASE_TIMEOUT_S
                )

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own dispatch first runs close_old_connections on Django's single sync
        thread for every message: every audio frame, and every caption for every viewer. All
        ORM work here goes through database_sync_to_async, which does that itself, so the hot
        path skips it and never queues behind database calls."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if self.closing:  # a caption event that raced our own close: nobody is listening
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.closing:
            return
        await super().close(code=code, reason=reason)
        self.closing = True

    async def refuse(self, code: CloseCode, reason: str) -> None:
        # The socket must be accepted for the client to see the code (else it is an HTTP 403).
        if not getattr(self, "_accepted", False):
            await self.accept()
            self._accepted = True
        await self.send(text_data=viewer_message("error", code=int(code), reason=reason))
        await self.close(code=int(code), reason=reason[:120])

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        self._accepted = True

    async def join_lecture_group(self) -> None:
        """Join the lecture's group; with the channel layer down the socket is still served
        (`layer_back` joins once it answers)."""
        self.group = events.lecture_group(self.lecture_id)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception:
            logger.warning(
                "channel layer unavailable at join", extra={"lecture_id": self.lecture_id}
            )

    async def disconnect(self, code: int) -> None:
        await self.release()

    async def send_message(self, message: events.Message) -> None:
        await self.send(text_data=json.dumps(message, ensure_ascii=False))

    # -- events from the lecture's group: each carries the message to send (lectures.events) --

    async def lecture_message(self, event: dict[str, Any]) -> None:
        await self.send_message(event["message"])

    async def caption_final(self, event: dict[str, Any]) -> None:
        await self.send_message(event["message"])

    async def lecture_status(self, event: dict[str, Any]) -> None:
        await self.send_message(event["message"])
