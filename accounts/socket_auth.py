"""Who is on a websocket, found without queueing on Django's single sync thread.

Channels' `AuthMiddlewareStack` loads each socket's session and user through
`database_sync_to_async`, which runs every call on one thread, one after another: when a
thousand students reconnect at once (a deploy, a Wi-Fi blip in a lecture hall) they are admitted
a few a second, and most time out. The lookup only reads, so here it runs on the event loop's
thread pool instead, several at once, each thread with its own database connection (closed when
stale, as `database_sync_to_async` does).
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware

_get_user_in_pool = database_sync_to_async(get_user.func, thread_sensitive=False)


class ConcurrentAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        scope["user"]._wrapped = await _get_user_in_pool(scope)


def ConcurrentAuthMiddlewareStack(inner: Any) -> Any:
    return CookieMiddleware(SessionMiddleware(ConcurrentAuthMiddleware(inner)))
