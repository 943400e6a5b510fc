"""The web side's client of the live feed (workers/live.py): a camera's fragmented MP4, as it comes.

The camera is recorded by one ingest worker (its IngestLease); that worker's process serves the feed
from the recorder's own camera connection at the address it wrote into its IngestWorker row
(``live_address``). ``subscribe`` finds it, signs the subscription with a key derived from SECRET_KEY
(``feed_key``: web and ingest share it; nothing else can subscribe) and yields ``FeedMessage`` s:

- "meta" (``meta``: {"mime", "video", "audio"}) and "init" (the init segment), at the start and again
  after the recorder restarted;
- "key" (a fragment starting with a keyframe) and "fragment";
- "end" (``meta``: {"reason": "camera-offline" | "stopped" | "refused"}), always last: also when no worker
  records the camera, or its worker cannot be reached.

Authorization is the caller's (recording/consumers.py checks the viewer's media token first): the feed
only knows that the web side asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.utils import timezone

from workers import live, transcode

from . import conf
from .models import IngestLease, IngestWorker

logger = logging.getLogger(__name__)

SIGNATURE_SECONDS = 60  # a SUB line is good for this long (the connection it opens lasts as it likes)


@dataclass(frozen=True)
class FeedMessage:
    kind: str  # "meta" | "init" | "key" | "fragment" | "end"
    data: bytes
    meta: dict | None = None


def feed_key() -> bytes:
    """The live feed's signing key: Django's salted_hmac key for the salt "live-feed", so a SUB line's
    MAC is salted_hmac("live-feed", "camera_id:variant:expires", algorithm="sha256")."""
    return hashlib.sha256(b"live-feed" + settings.SECRET_KEY.encode()).digest()


def feed_address(camera_id: int) -> str:
    """Where the camera's feed is served ("host:port"), or "" when no live worker records it."""
    now = timezone.now()
    # The lease's holder, also a moment past its renewal (a late tick): its live server says itself
    # whether it still records the camera; a worker whose heartbeat stopped is not asked.
    held = IngestLease.objects.filter(camera_id=camera_id).exclude(worker_id="")
    worker_id = held.values_list("worker_id", flat=True).first()
    if not worker_id:
        return ""
    fresh = now - timedelta(seconds=conf.ingest_worker_stale_seconds())
    address = (
        IngestWorker.objects.filter(worker_id=worker_id, heartbeat_at__gte=fresh)
        .values_list("live_address", flat=True)
        .first()
    )
    return address or ""


def _message(kind: str, payload: bytes) -> FeedMessage:
    meta = None
    if kind in ("meta", "end"):
        try:
            meta = json.loads(payload)
        except ValueError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
    return FeedMessage(kind=kind, data=payload, meta=meta)


def _offline() -> FeedMessage:
    return _message("end", b'{"reason": "camera-offline"}')


async def subscribe(camera_id: int, *, variant: str = live.SOURCE, timeout: float = 10.0) -> AsyncIterator[FeedMessage]:
    """The camera's live feed as it comes (see the module's docstring); ends with an "end" message.
    Closing the generator (``aclose``, or leaving ``async for``) closes the connection."""
    # In a thread of the loop's pool, its Django connection closed after the query (CONN_MAX_AGE): a
    # plain sync_to_async leaves one open per pool thread for ever (a test database cannot be dropped;
    # in production a restarted database leaves those threads with dead connections).
    address = await DatabaseSyncToAsync(feed_address, thread_sensitive=False)(camera_id)
    if not address:
        yield _offline()
        return
    try:
        host, port = live.split_address(address)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=timeout)
    except (OSError, ValueError, TimeoutError) as exc:
        logger.info("live feed of camera %s at %s: %s", camera_id, address, exc)
        yield _offline()
        return
    try:
        writer.write(live.sub_line(feed_key(), camera_id, variant, ttl=SIGNATURE_SECONDS))
        await writer.drain()
        while True:
            header = await reader.readexactly(5)
            kind = live.KIND_NAMES.get(header[:1])
            size = int.from_bytes(header[1:5], "big")
            if kind is None or size > live.MAX_FRAME:
                logger.warning("live feed of camera %s: bad frame %r (%s bytes)", camera_id, header[:1], size)
                yield _offline()
                return
            message = _message(kind, await reader.readexactly(size))
            yield message
            if kind == "end":
                return
    except (OSError, asyncio.IncompleteReadError):
        yield _offline()  # the worker went away (stopped, or the camera moved): the caller asks again
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def subscribe_sync(camera_id: int, *, variant: str = live.SOURCE, timeout: float = 10.0) -> Iterator[FeedMessage]:
    """``subscribe`` for a thread (tests, tools): blocks on each message; ``timeout`` per read."""
    address = feed_address(camera_id)
    if not address:
        yield _offline()
        return
    try:
        connection = live.FeedConnection(
            address, live.sub_line(feed_key(), camera_id, variant, ttl=SIGNATURE_SECONDS), timeout=timeout
        )
    except OSError:
        yield _offline()
        return
    with connection:
        try:
            for kind, payload in connection:
                yield _message(kind, payload)
                if kind == "end":
                    return
        except (OSError, ConnectionError):
            pass
        yield _offline()


# ----------------------------------------------------------------------------- the ingest side


def start_hub() -> live.LiveHub | None:
    """The ingest process's live server on LIVE_FEED_BIND ("" turns it off), started."""
    bind = conf.live_feed_bind()
    if not bind:
        return None
    transcode.register()  # the variant "h264": an H.265 camera transcoded for a browser without HEVC, on demand
    host, port = live.split_address(bind)
    return live.LiveHub(key=feed_key(), bind=(host, port), advertise=conf.live_feed_advertise()).start()
