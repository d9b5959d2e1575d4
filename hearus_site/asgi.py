"""ASGI entry point: HTTP through Django, websockets through Channels (see captions.routing)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearus_site.settings.dev")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.socket_auth import ConcurrentAuthMiddlewareStack  # noqa: E402
from captions.routing import websocket_urlpatterns  # noqa: E402
from hearus_site import transport  # noqa: E402
from hearus_site.origin import SameOriginValidator  # noqa: E402

# Messages over Daphne's size limit are closed with 4413 like any other oversized message.
transport.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            ConcurrentAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
