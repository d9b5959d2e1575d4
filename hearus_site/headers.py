"""Security headers beyond Django's own and django-csp's.

Django's SecurityMiddleware already sends `X-Content-Type-Options: nosniff`,
`Referrer-Policy: same-origin` and `Cross-Origin-Opener-Policy: same-origin` (their settings
are spelled out in settings.base); django-csp sends the Content-Security-Policy. This adds
`Permissions-Policy`: no page may use the microphone, camera, location, payment or USB, except
the microphone on the pages named in MICROPHONE_PAGES (the broadcast page), for their own
origin only.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

DENIED_FEATURES = ("camera", "geolocation", "payment", "usb", "microphone")
# URL names of the pages that may ask for the microphone.
MICROPHONE_PAGES = frozenset({"lecture_broadcast"})
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)
MICROPHONE_POLICY = ", ".join(
    f"{feature}=(self)" if feature == "microphone" else f"{feature}=()"
    for feature in DENIED_FEATURES
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        page = match.url_name if match is not None else None
        policy = MICROPHONE_POLICY if page in MICROPHONE_PAGES else PERMISSIONS_POLICY
        response.headers.setdefault("Permissions-Policy", policy)
        return response
