"""Serving a file in byte ranges, which is how an audio element seeks: it asks for
`Range: bytes=N-` at the point it needs, so a caption an hour in plays without downloading the
hour before it. One range per request (what media elements send); a header asking for several,
or one this does not read, gets the whole file, as RFC 9110 allows."""

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_BLOCK = 64 * 1024


def ranged_response(
    request: HttpRequest, open_file: Callable[[], BinaryIO], size: int, content_type: str
) -> HttpResponseBase:
    """200 with the whole file, 206 with the one range asked for, or 416 with the size when
    that range starts past the end. The caller has checked access."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match is None or not any(match.groups()) or size == 0:
        whole = FileResponse(open_file(), content_type=content_type)
        whole["Content-Length"] = str(size)
        whole["Accept-Ranges"] = "bytes"
        return whole
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start > end or start >= size:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    response = StreamingHttpResponse(
        _read(open_file(), start, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Length"] = str(end - start + 1)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


def _read(handle: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    """`length` bytes from `start`, a block at a time (a range may be the whole hour)."""
    with handle:
        handle.seek(start)
        while length > 0:
            block = handle.read(min(_BLOCK, length))
            if not block:
                return
            length -= len(block)
            yield block
