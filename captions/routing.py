"""Websocket routes. The broadcast and viewer consumers of the live caption path join here."""

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
