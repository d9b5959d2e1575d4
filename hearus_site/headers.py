"""Security headers beyond Django's own and django-csp's.

Django's SecurityMiddleware already sends `X-Content-Type-Options: nosniff`,
`Referrer-Policy: same-origin` and `Cross-Origin-Opener-Policy: same-origin` (their settings
are spelled out in settings.base); django-csp sends the Content-Security-Policy. This adds
`Permissions-Policy`: no page may use the microphone, camera, location, payment or USB, except
the microphone on the pages whose view is wrapped in `microphone_allowed` (the broadcast page).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.http import HttpRequest, HttpResponseBase

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)

DENIED_FEATURES = ("camera", "geolocation", "payment", "usb", "microphone")
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)
MICROPHONE_POLICY = ", ".join(
    f"{feature}=(self)" if feature == "microphone" else f"{feature}=()"
    for feature in DENIED_FEATURES
)


def microphone_allowed(view: Callable[P, R]) -> Callable[P, R]:
    """The page may ask for the microphone (its own origin only, never a frame's)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        response = view(*args, **kwargs)
        response["Permissions-Policy"] = MICROPHONE_POLICY
        return response

    return wrapper


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
