"""The websocket Origin check: scheme, host and port must be the site's own.

Channels' AllowedHostsOriginValidator compares only the host name with ALLOWED_HOSTS, so a page
served from any port of an allowed host (`http://localhost:9999`, another app on the same
machine) could open a socket with the user's cookies. Here the Origin must equal the socket's
own origin exactly, as Django's CSRF check requires for forms: the scheme the browser used
(`https` behind a load balancer that says so in SECURE_PROXY_SSL_HEADER), and the Host header
(host and port), which itself must be one of ALLOWED_HOSTS; or be listed in
CSRF_TRUSTED_ORIGINS. Anything else, a missing Origin included, is refused during the
handshake (the client sees HTTP 403).
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port made explicit; None if malformed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _parse_origin(origin: str) -> tuple[str, str, int] | None:
    parts = urlsplit(origin.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return _origin_key(parts.scheme.lower(), parts.netloc)


def _request_scheme(headers: dict[bytes, bytes]) -> str:
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        if headers.get(header, b"").decode("latin-1").split(",")[0].strip() == secure_value:
            return "https"
    return "http"


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    raw_origin = headers.get(b"origin")
    if raw_origin is None:
        return False
    origin = _parse_origin(raw_origin.decode("latin-1"))
    if origin is None:
        return False
    trusted = {_parse_origin(entry) for entry in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    host = headers.get(b"host", b"").decode("latin-1").strip()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == _origin_key(_request_scheme(headers), host)


class SameOriginValidator:
    """ASGI middleware for websockets: pass same-origin connections, refuse the rest."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
