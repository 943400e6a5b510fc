"""Stored recordings (segments, clips, exports, thumbnails) as HTTP responses, streamed in bounded
chunks, whole or by HTTP Range, from local disk or S3.

Nothing is read whole into memory: a `Range: bytes=0-` on a 2 GB export, or many parallel seeks,
must cost the web process CHUNK_BYTES per response at a time. On S3 the object is never
downloaded: django-storages' S3File would copy the whole object into memory on the first read,
so the range is asked of S3 itself (GetObject with Range) and its body is streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse

CHUNK_BYTES = 64 * 1024
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) byte of a single-range `Range` header; None for no (or an unsupported) range,
    False when the range cannot be satisfied."""
    match = RANGE.match(header or "")
    if not match or not (match.group(1) or match.group(2)):
        return None
    if match.group(1):
        first = int(match.group(1))
        last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    else:  # "bytes=-N": the last N bytes
        first, last = max(0, size - int(match.group(2))), size - 1
    if first > last or first >= size:
        return False
    return first, last


def _file_chunks(handle, first: int, last: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            piece = handle.read(min(CHUNK_BYTES, remaining))
            if not piece:
                break
            remaining -= len(piece)
            yield piece
    finally:
        handle.close()


def _s3_chunks(handle, first: int, last: int) -> Iterator[bytes]:
    handle.close()  # nothing was downloaded: S3File only loaded the object's metadata
    body = handle.obj.get(Range=f"bytes={first}-{last}")["Body"]
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def stored_chunks(handle, first: int, last: int) -> Iterator[bytes]:
    """Bytes first..last of an opened stored file, CHUNK_BYTES at most at a time; closes the handle."""
    if last < first:
        handle.close()
        return iter(())
    if hasattr(getattr(handle, "obj", None), "get"):  # an S3File: its boto3 Object
        return _s3_chunks(handle, first, last)
    return _file_chunks(handle, first, last)


def stored_file_response(request: HttpRequest, name: str, content_type: str, download: str = "") -> HttpResponse:
    """A stored file, streamed, with HTTP Range support so that browsers can seek in videos. A missing
    file is a 404."""
    try:
        handle = default_storage.open(name, "rb")
        size = handle.size
    except (OSError, ValueError):
        raise Http404 from None
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = wanted if wanted else (0, size - 1)
    response = StreamingHttpResponse(
        stored_chunks(handle, first, last), status=206 if wanted else 200, content_type=content_type
    )
    response["Content-Length"] = str(last - first + 1)
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    if download:
        response["Content-Disposition"] = f'attachment; filename="{download}"'
    return response
