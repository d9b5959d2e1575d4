"""Liveness and readiness probes for the load balancer and the kubelet."""

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from captions import capacity

logger = logging.getLogger(__name__)
CHANNEL_LAYER_TIMEOUT_S = 2.0


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; nothing external is touched."""
    return JsonResponse({"status": "ok"})


def database_is_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
            return row is not None and tuple(row) == (1,)
    except Exception:
        logger.exception("readiness: database unreachable")
        return False


async def _channel_layer_round_trip() -> bool:
    # A layer of its own for each probe: it tests the broker, not this process's connections
    # (which the sockets' consumers re-establish themselves after an outage).
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        channel = await layer.new_channel("readyz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "readyz.ping", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), CHANNEL_LAYER_TIMEOUT_S)
        return bool(message.get("token") == token)
    finally:
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()


def channel_layer_is_reachable() -> bool:
    try:
        return async_to_sync(_channel_layer_round_trip)()
    except Exception:
        logger.exception("readiness: channel layer unreachable")
        return False


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic while the database answers: captions are stored there.

    Without the channel layer (Redis restarting) the process still transcribes, stores and
    serves captions (viewers read them from the database until it is back), so it stays in
    service and says it is `degraded`, naming the part; without the database it is
    `unavailable` (503)."""
    checks = {"database": database_is_reachable(), "channel_layer": channel_layer_is_reachable()}
    if not checks["database"]:
        state, code = "unavailable", 503
    elif not all(checks.values()):
        state, code = "degraded", 200
    else:
        state, code = "ok", 200
    degraded = [name for name, passed in checks.items() if not passed]
    # What this process carries and takes (a new broadcast beyond it is refused with 4503).
    live = {"lectures": capacity.lectures_carried(), "capacity": capacity.known_capacity()}
    return JsonResponse(
        {"status": state, "checks": checks, "degraded": degraded, "live": live}, status=code
    )
