"""Serving a file in byte ranges, which is how an audio element seeks: it asks for
`Range: bytes=N-` at the point it needs, so a caption an hour in plays without downloading the
hour before it. One range per request (what media elements send); a header asking for several,
or one this does not read, gets the whole file, as RFC 9110 allows.

With an `etag` (it must change whenever the file does), a browser revalidates what it cached
(`If-None-Match` -> 304) and a range asked `If-Range` an older version gets the whole new file,
so a player never splices bytes of a replaced file into the new one."""

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_BLOCK = 64 * 1024


def ranged_response(
    request: HttpRequest,
    open_file: Callable[[], BinaryIO],
    size: int,
    content_type: str,
    *,
    etag: str | None = None,
) -> HttpResponseBase:
    """200 with the whole file, 206 with the one range asked for, 416 with the size when that
    range starts past the end, or 304 when the browser's copy (`etag`) is current. The caller
    has checked access."""
    if etag is not None and etag in _etags(request.headers.get("If-None-Match", "")):
        unchanged = HttpResponse(status=304)
        unchanged["ETag"] = etag
        return unchanged
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if_range = request.headers.get("If-Range")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        match = None  # the range was of another version of the file
    if match is None or not any(match.groups()) or size == 0:
        whole = FileResponse(open_file(), content_type=content_type)
        whole["Content-Length"] = str(size)
        whole["Accept-Ranges"] = "bytes"
        if etag is not None:
            whole["ETag"] = etag
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
    if etag is not None:
        response["ETag"] = etag
    return response


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


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
