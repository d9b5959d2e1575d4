"""One translation of domain errors into API answers, for every DRF view.

Services raise Django's exceptions with a message a person can act on and a `code`; the views
call them without try/except, and this handler answers:

- `ValidationError` -> `{"detail": [messages], "code": code}` with 400, or the status its code
  stands for (`ERROR_STATUS`: a refusal because of the lecture's state is a conflict);
- `ObjectDoesNotExist` -> 404; `PermissionDenied` -> 403 (DRF itself, with the message).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

ERROR_STATUS = {
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "invalid_state": status.HTTP_409_CONFLICT,
    "live_captions": status.HTTP_409_CONFLICT,
    "missing_file": status.HTTP_409_CONFLICT,
    # Resumable uploads (classroom.uploads).
    "part_size": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "offset_mismatch": status.HTTP_409_CONFLICT,
    "not_found": status.HTTP_404_NOT_FOUND,
}


def api_exception_handler(error: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(error, DjangoValidationError):
        code = getattr(error, "code", None)
        return Response(
            {"detail": error.messages, "code": code},
            status=ERROR_STATUS.get(str(code), status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(error, ObjectDoesNotExist):
        return Response({"detail": str(error) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return exception_handler(error, context)
