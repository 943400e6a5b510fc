"""The live view's HLS files (playlist and segments) served by a small ASGI app instead of Django.

The HLS fallback fetches its playlist about every second and each new segment, per viewer. Through
Django each fetch was a whole request (the middleware's session and user lookups, locale, CSRF, the
media token's 4 queries, the license rule, the live request's UPDATE) in the server's one sync thread:
over 1 % of a core per viewer. portal.asgi sends the exact path of the `recording:live_media` URL here
(everything else stays Django), and a fetch here costs a dictionary lookup and a file read:

- Authorization is the view's decision, through the same function (media_selectors.live_media_camera:
  the token genuine and fresh, its operator and user may still see the camera, the camera's license
  lets it stream) and the same file rule (LIVE_FILE), kept per process per token for
  LIVE_RECHECK_SECONDS; a refusal is a bare 404, kept for REFUSAL_SECONDS at most. So another
  operator, a cancelled share, a removed user or an expired or moved license is refused within
  LIVE_RECHECK_SECONDS of the change, the same promise as the live socket (recording/consumers.py).
- The live request that keeps the camera's HLS running (media_services.live_request) is asked at most
  once per camera per process every LIVE_REQUEST_EVERY seconds, on a playlist fetch.
- The files are the view's (media_selectors.live_file), read in a worker thread, a segment in
  READ_CHUNK pieces; the playlist with `Cache-Control: no-store`; a stream not being written now is a
  404. Only GET and HEAD (405 otherwise); the query string is ignored.

Without portal.asgi (runserver on WSGI, the test client) the Django view answers the same URLs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from pathlib import Path

from channels.db import database_sync_to_async
from django.conf import settings
from django.urls import reverse

from workers.hls import PLAYLIST

from . import media_services
from .consumers import recheck_seconds
from .media_selectors import LIVE_FILE, live_file, live_media_camera

logger = logging.getLogger(__name__)

# The recorder starts a camera's HLS while its live_requested_at is under RECORDING_LIVE_IDLE_SECONDS
# (60) old, and live_request writes it at most every 10 s: asked every 5 s, it is never over ~15 s old.
LIVE_REQUEST_EVERY = 5.0
REFUSAL_SECONDS = 2.0  # a refused token is asked again after this (at most LIVE_RECHECK_SECONDS)
MAX_PATH = 1024  # a live URL is ~150 characters (the token ~100)
MAX_DECIDED = 10_000  # tokens remembered per process (a fuzzer's distinct tokens push out the oldest)
READ_CHUNK = 256 * 1024

# token -> (monotonic time until which the decision holds, the camera or None for a refusal)
_decided: dict[str, tuple[float, object | None]] = {}
# camera id -> monotonic time of this process's last live request for it
_asked: dict[int, float] = {}


@functools.cache
def _prefix() -> str:
    """The live_media URL up to its token: "/recording/live/" (read from the URL configuration)."""
    sample = reverse("recording:live_media", kwargs={"media_token": "T", "filename": PLAYLIST})
    return sample.removesuffix("T/" + PLAYLIST)


def live_file_route(path: str) -> tuple[str, str] | None:
    """(token, filename) when `path` (a path_info) is the live_media URL, i.e. what Django's
    `live/<str:media_token>/<str:filename>` matches, else None (the request goes to Django)."""
    prefix = _prefix()
    if not path.startswith(prefix):
        return None
    token, slash, filename = path[len(prefix) :].partition("/")
    if not slash or not token or not filename or "/" in filename:
        return None
    return token, filename


def with_live_files(django_application):
    """portal.asgi's HTTP: the live HLS files here, every other request to `django_application`."""

    async def application(scope, receive, send):
        if scope["type"] == "http":
            path = scope.get("path", "")
            root = scope.get("root_path", "")
            route = live_file_route(path.removeprefix(root) if root else path)
            if route is not None:
                return await serve(scope, send, *route)
        return await django_application(scope, receive, send)

    return application


async def serve(scope, send, token: str, filename: str) -> None:
    if scope.get("method") not in ("GET", "HEAD"):
        return await _respond(send, scope, 405, [(b"allow", b"GET, HEAD")])
    if len(scope.get("path", "")) > MAX_PATH or not LIVE_FILE.match(filename):
        return await _respond(send, scope, 404)
    try:
        camera = await _camera_for(token)
        if camera is None:
            return await _respond(send, scope, 404)
        if filename == PLAYLIST:
            # Asked even while the playlist does not exist yet (the view's reason: a worker that took the
            # camera after the page asked starts HLS only on a fresh request).
            await _keep_live(camera)
        found = await asyncio.to_thread(live_file, camera.pk, filename)
    except Exception:  # the database away for a moment: this fetch fails, hls.js asks again
        logger.warning("live HLS file %s failed", filename, exc_info=True)
        return await _respond(send, scope, 503)
    if found is None:
        return await _respond(send, scope, 404)
    body, content_type = found
    if isinstance(body, bytes):  # the playlist
        headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
        return await _respond(send, scope, 200, headers, body)
    await _send_file(send, scope, body, content_type)


async def _camera_for(token: str):
    """The camera the token opens now (live_media_camera), decided at most every LIVE_RECHECK_SECONDS."""
    now = time.monotonic()
    held = _decided.get(token)
    if held is not None and held[0] > now:
        return held[1]
    # The decision reads the database from before this moment on, so keeping it until now + the window
    # refuses a change made after the read within the window of it.
    camera = await database_sync_to_async(live_media_camera)(token)
    keep = recheck_seconds() if camera is not None else min(REFUSAL_SECONDS, recheck_seconds())
    _decided.pop(token, None)  # re-inserted last: the dict stays ordered oldest first
    if len(_decided) >= MAX_DECIDED:
        _forget_oldest(now)
    _decided[token] = (now + keep, camera)
    return camera


def _forget_oldest(now: float) -> None:
    for token in [t for t, (until, _camera) in _decided.items() if until <= now]:
        del _decided[token]
    while len(_decided) >= MAX_DECIDED:
        del _decided[next(iter(_decided))]


async def _keep_live(camera) -> None:
    now = time.monotonic()
    last = _asked.get(camera.pk)
    if last is not None and now - last < LIVE_REQUEST_EVERY:
        return
    _asked[camera.pk] = now
    try:
        await database_sync_to_async(media_services.live_request)(camera=camera)
    except Exception:
        _asked.pop(camera.pk, None)  # the next playlist fetch asks again
        raise


def _security_headers(scope) -> list[tuple[bytes, bytes]]:
    """What Django's SecurityMiddleware and XFrameOptionsMiddleware add to the view's answers."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append((b"referrer-policy", str(settings.SECURE_REFERRER_POLICY).encode()))
    headers.append((b"x-frame-options", str(getattr(settings, "X_FRAME_OPTIONS", "DENY")).upper().encode()))
    if settings.SECURE_HSTS_SECONDS and _is_secure(scope):
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append((b"strict-transport-security", hsts.encode()))
    return headers


def _is_secure(scope) -> bool:
    """Django's request.is_secure(): the scheme, or the proxy's header named by SECURE_PROXY_SSL_HEADER."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure = settings.SECURE_PROXY_SSL_HEADER
        name = header.removeprefix("HTTP_").lower().replace("_", "-").encode()
        for key, value in scope.get("headers", []):
            if key.lower() == name:
                return value.decode("latin1").split(",")[0].strip() == secure
    return scope.get("scheme") == "https"


async def _respond(send, scope, status: int, headers=(), body: bytes | None = None) -> None:
    headers = list(headers)
    if body is None:
        body = {404: b"Not Found", 405: b"Method Not Allowed", 503: b"Service Unavailable"}[status]
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
    headers += [(b"content-length", str(len(body)).encode()), *_security_headers(scope)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def _open(path: Path, *, read: bool):
    """(the open file, or None when it was read whole and closed; its size; its first chunk)."""
    handle = path.open("rb")
    try:
        size = os.fstat(handle.fileno()).st_size
        first = handle.read(min(READ_CHUNK, size)) if read else b""
    except BaseException:
        handle.close()
        raise
    if not read or len(first) >= size:
        handle.close()
        return None, size, first
    return handle, size, first


async def _send_file(send, scope, path: Path, content_type: str) -> None:
    head = scope.get("method") == "HEAD"
    try:
        handle, size, chunk = await asyncio.to_thread(_open, path, read=not head)
    except OSError:  # removed since live_file saw it (the segmenter's rotation)
        return await _respond(send, scope, 404)
    try:
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(size).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers + _security_headers(scope)})
        left = size - len(chunk)
        while True:
            more = handle is not None and bool(chunk) and left > 0
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return
            chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK, left))
            left -= len(chunk)
    finally:
        if handle is not None:
            await asyncio.to_thread(handle.close)
