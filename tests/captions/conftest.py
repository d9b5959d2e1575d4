"""Websocket clients for the real ASGI application (session cookie auth, origin check)."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import User
from hearus_site.asgi import application


def session_cookie(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class Socket:
    """A websocket client on the real application; `opened` is False when refused at once."""

    def __init__(self, path: str, user: User | None) -> None:
        self.path = path
        self.user = user
        self.communicator: WebsocketCommunicator | None = None

    async def open(self) -> "Socket":
        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        if self.user is not None:
            cookie = await sync_to_async(session_cookie)(self.user)
            headers.append((b"cookie", cookie.encode()))
        self.communicator = WebsocketCommunicator(application, self.path, headers=headers)
        connected, _ = await self.communicator.connect(timeout=10)
        assert connected, f"{self.path} was not accepted"
        return self

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next text message as JSON; a close instead raises AssertionError with its code."""
        assert self.communicator is not None
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", f"expected a message, got {output}"
        message: dict[str, Any] = json.loads(output["text"])
        return message

    async def receive_until(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        while True:
            message = await self.receive(timeout)
            if message["type"] == kind:
                return message

    async def closed_with(self, timeout: float = 10) -> int:
        """Skip messages until the server closes; return the close code."""
        assert self.communicator is not None
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def send_json(self, message: Any) -> None:
        assert self.communicator is not None
        await self.communicator.send_to(text_data=json.dumps(message))

    async def send_text(self, text: str) -> None:
        assert self.communicator is not None
        await self.communicator.send_to(text_data=text)

    async def send_bytes(self, data: bytes) -> None:
        assert self.communicator is not None
        await self.communicator.send_to(bytes_data=data)

    async def close(self, timeout: float = 60) -> None:
        """Drop the connection (no `stop`), giving the server time to store what it heard:
        Daphne allows an application 10 s after a disconnect, the test more."""
        communicator, self.communicator = self.communicator, None
        if communicator is not None:
            await communicator.disconnect(timeout=timeout)


def viewer_path(lecture_id: int, after: int | str | None = None) -> str:
    query = "" if after is None else f"?after={after}"
    return f"/ws/lectures/{lecture_id}/captions/{query}"


def broadcast_path(lecture_id: int) -> str:
    return f"/ws/lectures/{lecture_id}/broadcast/"


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    """Sockets opened in a test; all closed at its end."""
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        await socket.close()
