"""ASGI entry point: HTTP through Django, websockets through Channels (see captions.routing)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.socket_auth import ConcurrentAuthMiddlewareStack  # noqa: E402
from captions.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            ConcurrentAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
