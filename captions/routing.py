"""Websocket routes of the live caption path (protocol in docs/protocol.md)."""

from django.urls import URLPattern, URLResolver, path

from captions.consumers import BroadcastConsumer, CaptionConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/lectures/<int:lecture_id>/broadcast/", BroadcastConsumer.as_asgi()),
    path("ws/lectures/<int:lecture_id>/captions/", CaptionConsumer.as_asgi()),
]
