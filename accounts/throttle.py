"""Login throttling: who is asking (the client's address) and what a locked-out client sees.

django-axes counts failed logins per account and per address (settings: LOGIN_FAILURE_LIMIT,
LOGIN_LOCKOUT_MINUTES) and refuses further attempts, before any password is checked, until
the lock expires or staff reset it (`manage.py axes_reset_username` / `axes_reset_ip`). It
covers the login page, the admin's login and `POST /api/auth/token/` (both call Django's
`authenticate` with the request). This module gives it the address and the answer: 429 with
a `Retry-After` header and a message in the user's language.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _


def client_address(request: HttpRequest) -> str:
    """The client's IP address. Behind TRUSTED_PROXY_COUNT proxies, the entry of
    X-Forwarded-For that the outermost trusted proxy appended (entries further left come
    from the client and are never trusted); else the peer's address."""
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted:
            return str(hops[-trusted])
    return str(request.META.get("REMOTE_ADDR") or "")


def lockout_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    return _(
        "Too many failed logins for this account or from this network. Try again in "
        "%(minutes)s minutes, or ask staff to unlock it."
    ) % {"minutes": lockout_minutes()}


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out login gets: 429, `Retry-After`, and the reason (JSON for the API,
    the login page with the message otherwise)."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    else:
        form = AuthenticationForm(request)
        response = render(
            request,
            "registration/login.html",
            {"form": form, "lockout_message": lockout_message()},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response


class PostRateLimitMiddleware:
    """At most so many POSTs to some pages per address and per account in a window: the
    password reset form (each one sends an e-mail) and sign-up (each one makes an account).

    RATE_LIMITED_POSTS maps a URL name to (the form field naming the account or None, how many,
    window in seconds). Counts live in the cache (Redis when REDIS_URL is set, so every web
    process shares them). Over the limit: 429 with `Retry-After` and the reason.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            return None
        rule = settings.RATE_LIMITED_POSTS.get(name or "")
        if rule is None:
            return None
        field, limit, window_s = rule
        keys = [f"hearus:ratelimit:{name}:address:{client_address(request)}"]
        account = str(request.POST.get(field, "")).strip().lower() if field else ""
        if account:
            digest = hashlib.sha256(account.encode()).hexdigest()[:32]
            keys.append(f"hearus:ratelimit:{name}:account:{digest}")
        counts = []
        for key in keys:
            cache.add(key, 0, window_s)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # expired between add and incr
                cache.set(key, 1, window_s)
                counts.append(1)
        if max(counts) <= limit:
            return None
        message = _(
            "Too many attempts from this network or for this account. Try again in %(minutes)s "
            "minutes."
        ) % {"minutes": max(1, math.ceil(window_s / 60))}
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(window_s)
        return response
