"""The live view's low-latency path: one WebSocket per viewer, fed fragmented MP4 by stream copy.

/ws/live/<camera_id>/?token=<media token>. The token is the live playlist's (devices/media_tokens.py,
handed out by the live page and its token URL) and it is checked like the playlist checks it: genuine,
not expired, its operator (and user) may still see the camera, and the camera's license lets it stream
(media_blocked_reason). Refused at connect with close code 4404 (no such camera for this viewer) or
4403 (the license stops media); while watching, the same check runs again every LIVE_RECHECK_SECONDS
(a cancelled share, a removed user limit, an expired or moved license close the socket within seconds).
That re-check is one loop per process (``_Rechecks``), not one per socket: each round checks every
distinct (token, camera) once in one database hop, so the sockets of one viewer (a wall of tabs, a
page that connects again) cost one check, and a socket costs no thread hop of its own.

To the browser: text JSON {"type": "meta", "mime", "video", "audio", "path": "mse"} before each init
segment, {"type": "status", "state": "starting"|"playing"|"camera-offline"|"resumed"}, and binary
messages that are the feed's init segments and fragments as they come (recording/live_feed.py). From the
browser: {"type": "ack", "bytes": N} (the total binary bytes it has received; the server sends at most
LIVE_SOCKET_WINDOW_BYTES beyond it, so a slow link stops this socket reading the feed, and the feed drops
that viewer to the next keyframe instead of anything buffering without bound) and {"type": "variant",
"value": "source"|"h264"} (the H.264 transcode of an H.265 camera, on the viewer's request). Anything
else, over LIVE_CLIENT_MESSAGE_BYTES, or not JSON closes this socket only (1009 / 1008); daphne itself
closes a socket whose frame or message passes 1 MiB before any of it reaches this code.

A client (one user from one address) holds at most LIVE_SOCKETS_PER_CLIENT sockets in this process;
the next is closed at once with 4429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import types
import weakref
from collections import Counter
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from devices.media_tokens import camera_access_valid
from portal.client_ip import client_ip, rate_limit_bucket

from .media_selectors import media_blocked_reason

logger = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404  # no such camera for this token (another operator's, a cancelled share, a bad token)
CLOSE_BLOCKED = 4403  # the camera's license stops its media (expired, moved to another camera)
CLOSE_TOO_MANY = 4429  # this client has LIVE_SOCKETS_PER_CLIENT sockets open already
CLOSE_POLICY = 1008  # a malformed client message
CLOSE_TOO_BIG = 1009  # a client message over LIVE_CLIENT_MESSAGE_BYTES
VARIANTS = ("source", "h264")


def recheck_seconds() -> float:
    return float(getattr(settings, "LIVE_RECHECK_SECONDS", 5))


def sockets_per_client() -> int:
    return int(getattr(settings, "LIVE_SOCKETS_PER_CLIENT", 16))


def client_message_bytes() -> int:
    return int(getattr(settings, "LIVE_CLIENT_MESSAGE_BYTES", 1024))


def window_bytes() -> int:
    return int(getattr(settings, "LIVE_SOCKET_WINDOW_BYTES", 1024 * 1024))


def retry_seconds() -> float:
    """How soon a socket whose camera is offline asks the feed again."""
    return float(getattr(settings, "LIVE_FEED_RETRY_SECONDS", 2))


# Open sockets per client in this process (daphne runs the consumers of a process on one event loop).
_open: Counter[tuple[str, str]] = Counter()


class _Rechecks:
    """The re-check of every open socket on one event loop (module docstring): a round every
    LIVE_RECHECK_SECONDS while any socket is open, each distinct (token, camera) checked once."""

    def __init__(self) -> None:
        self.sockets: set[LiveConsumer] = set()
        self.task: asyncio.Task | None = None
        self.closing: set[asyncio.Task] = set()  # held until done (the loop keeps only weak references)

    def add(self, consumer: LiveConsumer) -> None:
        self.sockets.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, consumer: LiveConsumer) -> None:
        self.sockets.discard(consumer)

    async def _run(self) -> None:
        check = database_sync_to_async(_access_each)
        while self.sockets:
            await asyncio.sleep(recheck_seconds())
            watching = list(self.sockets)
            if not watching:
                break
            try:
                codes = await check({(c.token, c.camera_id) for c in watching})
            except Exception:  # the database away for a moment: the next round asks again
                logger.warning("live sockets' re-check failed", exc_info=True)
                continue
            for consumer in watching:
                code = codes.get((consumer.token, consumer.camera_id), 0)
                if code and consumer in self.sockets:
                    self.sockets.discard(consumer)
                    closing = asyncio.get_running_loop().create_task(consumer._refuse(code))
                    self.closing.add(closing)
                    closing.add_done_callback(self.closing.discard)


# One per event loop (daphne runs a process's consumers on one; the tests run a server per thread).
_rechecks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Rechecks] = weakref.WeakKeyDictionary()


def _rechecks_here() -> _Rechecks:
    loop = asyncio.get_running_loop()
    if loop not in _rechecks:
        _rechecks[loop] = _Rechecks()
    return _rechecks[loop]


def open_sockets(client: tuple[str, str]) -> int:
    return _open[client]


def _access(token: str, camera_id: int, *, at_connect: bool) -> tuple[int, str]:
    """(0, who) when the token opens camera `camera_id` and its media may stream, else (close code, "");
    who names the token's user (its operator when it names none) for the per-client limit.
    At connect the token must also be fresh (it lives minutes); while watching only the access it
    names is re-checked (a page watches for hours on the token it connected with)."""
    access = camera_access_valid(token) if at_connect else camera_access_valid(token, max_age=None)
    if access is None or access.camera.pk != camera_id:
        return CLOSE_NOT_FOUND, ""
    if media_blocked_reason(access.camera):
        return CLOSE_BLOCKED, ""
    return 0, f"user:{access.user.pk}" if access.user is not None else f"operator:{access.operator.pk}"


def _access_each(keys: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The while-watching check of each (token, camera): its close code, 0 when it may go on."""
    return {(token, camera_id): _access(token, camera_id, at_connect=False)[0] for token, camera_id in keys}


def _client_key(scope, who: str) -> tuple[str, str]:
    """(who, address bucket) of the socket: the client's address read the way every other per-client
    limit reads it (portal/client_ip.py)."""
    meta = {"REMOTE_ADDR": (scope.get("client") or ("", 0))[0] or ""}
    for name, value in scope.get("headers", []):
        meta["HTTP_" + name.decode("latin1").upper().replace("-", "_")] = value.decode("latin1")
    return who, rate_limit_bucket(client_ip(types.SimpleNamespace(META=meta)))


async def _subscribe(camera_id: int, variant: str):
    """The camera's feed (recording/live_feed.py); an empty one when this deployment has none yet."""
    try:
        from . import live_feed
    except ImportError:  # the feed library is not there: every camera reads as offline
        return _no_feed()
    return live_feed.subscribe(camera_id, variant=variant)


async def _no_feed():
    return
    yield  # an async generator that ends at once


class LiveConsumer(AsyncWebsocketConsumer):
    """One viewer's live socket (module docstring)."""

    camera_id: int
    token: str
    client: tuple[str, str] | None = None
    variant = "source"

    async def connect(self) -> None:
        self.camera_id = int(self.scope["url_route"]["kwargs"]["camera_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        self.token = (query.get("token") or [""])[0][:1000]
        self.sent = 0
        self.acked = 0
        self.window = asyncio.Event()
        self.window.set()
        self.tasks: list[asyncio.Task] = []
        # Accept first so that the refusal carries its reason as a close code the page can read.
        await self.accept()
        code, who = await database_sync_to_async(_access)(self.token, self.camera_id, at_connect=True)
        if code:
            await self.close(code=code)
            return
        client = _client_key(self.scope, who)
        if _open[client] >= sockets_per_client():
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.client = client
        _open[client] += 1
        await self._status("starting")
        self.pump = asyncio.create_task(self._pump())
        self.tasks = [self.pump]
        _rechecks_here().add(self)

    async def __call__(self, scope, receive, send):
        # Whichever way the socket ends (a disconnect, the server cancelling the application), its feed
        # and its place in the per-client count go with it.
        try:
            return await super().__call__(scope, receive, send)
        finally:
            self._release()

    async def disconnect(self, code) -> None:
        self._release()

    def _release(self) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        with contextlib.suppress(RuntimeError):  # no running loop: nothing was added
            _rechecks_here().discard(self)
        if self.client is not None:
            _open[self.client] -= 1
            if _open[self.client] <= 0:
                del _open[self.client]
            self.client = None

    async def receive(self, text_data=None, bytes_data=None) -> None:
        raw = text_data if text_data is not None else bytes_data
        if raw is None or len(raw) > client_message_bytes():
            await self._refuse(CLOSE_TOO_BIG if raw is not None else CLOSE_POLICY)
            return
        try:
            if bytes_data is not None:
                raise ValueError("binary")
            message = json.loads(text_data)
            kind = message["type"]
            if kind == "ack":
                acked = message["bytes"]
                if not isinstance(acked, int) or isinstance(acked, bool) or not 0 <= acked <= self.sent:
                    raise ValueError("ack")
                self.acked = max(self.acked, acked)
                if self.sent - self.acked <= window_bytes():
                    self.window.set()
            elif kind == "variant":
                value = message["value"]
                if value not in VARIANTS:
                    raise ValueError("variant")
                if value != self.variant:
                    # A new subscription of the other variant; the page starts a new MediaSource on its meta.
                    self.variant = value
                    self.pump.cancel()
                    self.pump = asyncio.create_task(self._pump())
                    self.tasks = [task for task in self.tasks if not task.done()] + [self.pump]
            else:
                raise ValueError("type")
        except (ValueError, KeyError, TypeError):
            await self._refuse(CLOSE_POLICY)

    async def _status(self, state: str) -> None:
        await self.send(text_data=json.dumps({"type": "status", "state": state}))

    async def _refuse(self, code: int) -> None:
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        await self.close(code=code)

    async def _pump(self) -> None:
        """Feed -> socket, subscribing again while the camera is offline and on a variant change."""
        offline = False
        while True:
            reason, played = await self._forward(resumed=offline)
            if played:
                offline = False
            if reason == "refused" and self.variant != "source":
                self.variant = "source"  # no transcode to be had: back to the camera's own video
                continue
            if not offline:
                offline = True
                await self._status("camera-offline")
            await asyncio.sleep(retry_seconds())

    async def _forward(self, *, resumed: bool) -> tuple[str, bool]:
        """One subscription's messages to the browser until it ends: why it ended, and whether it played."""
        played = False
        feed = await _subscribe(self.camera_id, self.variant)
        try:
            async for message in feed:
                if message.kind == "end":
                    return str((message.meta or {}).get("reason", "camera-offline")), played
                if message.kind == "meta":
                    await self._meta(message.meta or {})
                    continue
                if message.kind not in ("init", "key", "fragment"):
                    continue
                await self.window.wait()
                await self.send(bytes_data=message.data)
                self.sent += len(message.data)
                if self.sent - self.acked > window_bytes():
                    # The browser has not acknowledged a window's worth: stop reading the feed until
                    # it does. The feed's bounded queue then drops this viewer to the next keyframe.
                    self.window.clear()
                if not played and message.kind != "init":
                    played = True
                    await self._status("resumed" if resumed else "playing")
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken feed is an offline camera for the viewer, never a dead socket
            logger.warning("live feed of camera %s failed", self.camera_id, exc_info=True)
        finally:
            aclose = getattr(feed, "aclose", None)
            if aclose is not None:
                await aclose()
        return "camera-offline", played

    async def _meta(self, meta: dict) -> None:
        message = {
            "type": "meta",
            "mime": str(meta.get("mime", "")),
            "video": str(meta.get("video", "")),
            "audio": bool(meta.get("audio", False)),
            "variant": self.variant,
            "path": "mse",
        }
        await self.send(text_data=json.dumps(message))
