"""The live feed: the recorder's one camera connection, fanned out to every viewer (Django-free).

The recorder's ffmpeg writes a third output, the camera's video (and sound) by stream copy as fragmented
MP4 with one fragment per frame, to a pipe (``workers.segmenter``). ``FeedSource.feed`` reads that pipe
in the recorder's own thread, always at once (a full pipe would stall the recording), splits it
(``workers.fmp4``) and keeps the init segment and the fragments since the latest keyframe, so a viewer
who joins starts at once, from that keyframe.

``LiveHub`` is the ingest process's live server: one asyncio loop in one thread, one TCP listener
(``LIVE_FEED_BIND``), one published ``FeedSource`` per camera and variant. The protocol (docs/deployment.md):

- the client sends one line ``SUB <camera_id> <variant> <expires_epoch> <hex hmac-sha256>\\n``, the MAC
  over ``camera_id:variant:expires`` with the hub's key (``recording.live_feed`` derives it from
  SECRET_KEY, so only the web side can sign); anything else, late or over 256 bytes is refused;
- the server answers frames of 1 byte kind + 4 bytes big-endian length + payload: ``M`` meta JSON
  (mime with the RFC 6381 codecs, video family, audio), ``I`` the init segment, ``K`` a fragment that
  starts with a keyframe, ``F`` another fragment, ``E`` end JSON {"reason": "camera-offline" | "stopped" |
  "refused"} (then it closes). After a recorder restart (a new ffmpeg run) ``M`` + ``I`` come again
  before the next ``K``.

Each subscriber has a bounded queue (``queue_bytes``): a viewer too slow for the stream loses fragments
up to the next keyframe instead of the server buffering without bound. A camera whose run ends gets a
short grace for the recorder's restart, then its viewers get ``E camera-offline``.

Variants other than "source" (an H.264 transcode of an H.265 camera) are made on demand: a producer
registered with ``register_variant`` is started when the first subscriber of that variant of a camera
arrives and stopped when the last one leaves; it publishes its own ``FeedSource`` (``LiveHub.publish``)
and may read the camera's source feed in a thread (``FeedSource.reader``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from workers import fmp4

logger = logging.getLogger(__name__)

SOURCE = "source"
QUEUE_BYTES = 4 * 1024 * 1024  # per subscriber: about 4 s of a 8 Mbit/s camera
GOP_CACHE_BYTES = 32 * 1024 * 1024  # a GOP longer than this is not cached (late joiners wait for a keyframe)
MAX_LINE = 256
LINE_TIMEOUT = 5.0
MAX_FRAME = 2 * fmp4.MAX_BOX + 65536  # what a client accepts as one frame
SUB_LINE = re.compile(rb"SUB ([0-9]{1,12}) ([a-z0-9_-]{1,32}) ([0-9]{1,12}) ([0-9a-f]{64})\r?\n")

KIND_NAMES = {b"M": "meta", b"I": "init", b"K": "key", b"F": "fragment", b"E": "end"}


def frame_header(kind: bytes, size: int) -> bytes:
    return kind + size.to_bytes(4, "big")


def frame(kind: bytes, payload: bytes) -> bytes:
    return frame_header(kind, len(payload)) + payload


def end_frame(reason: str) -> bytes:
    return frame(b"E", json.dumps({"reason": reason}).encode())


def sign(key: bytes, camera_id: int, variant: str, expires: int) -> str:
    """The MAC of a SUB line: hmac-sha256 over "camera_id:variant:expires"."""
    return hmac.new(key, f"{camera_id}:{variant}:{expires}".encode(), hashlib.sha256).hexdigest()


def sub_line(key: bytes, camera_id: int, variant: str = SOURCE, *, ttl: int = 60, now: float | None = None) -> bytes:
    expires = int((time.time() if now is None else now) + ttl)
    return f"SUB {camera_id} {variant} {expires} {sign(key, camera_id, variant, expires)}\n".encode()


# --- the producer side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """What a FeedSource tells its listeners, in order: a run begins, its init, fragments, its end."""

    kind: str  # "run" | "init" | "fragment" | "end"
    init: fmp4.Init | None = None
    fragment: fmp4.Fragment | None = None


@dataclass(frozen=True)
class Snapshot:
    running: bool
    init: fmp4.Init | None
    gop: tuple[fmp4.Fragment, ...]


class FeedSource:
    """One feed's producer side: ``feed(stream)`` reads one ffmpeg run's fMP4 to its end (call it in a
    thread of its own, as ``KeyframeTap.feed``). Keeps the run's init and the fragments since its latest
    keyframe; listeners get every event in order (``add_listener``), the hub and ``reader``s among them."""

    def __init__(self, *, gop_bytes: int = GOP_CACHE_BYTES, max_box: int = fmp4.MAX_BOX) -> None:
        self.gop_bytes = gop_bytes
        self.max_box = max_box
        self.runs = 0
        self.fragments = 0
        self.error = ""  # why the last run's stream could not be split ("" when it could)
        self._lock = threading.Lock()
        self._running = False
        self._init: fmp4.Init | None = None
        self._gop: list[fmp4.Fragment] = []
        self._gop_size = 0
        self._listeners: list[Callable[[Event], None]] = []

    def feed(self, stream: BinaryIO) -> None:
        self.begin()
        try:
            for piece in fmp4.split(stream, max_box=self.max_box):
                self.push(piece)
        except (OSError, ValueError) as exc:  # Fmp4Error among them: nothing more of this run is served
            self.error = str(exc) or type(exc).__name__
            logger.warning("live feed: %s; nothing more of this run is served", self.error)
        except Exception:
            self.error = "the live feed's reader failed"
            logger.exception("live feed: reading the recorder's output failed")
        finally:
            self.end()
            # Read to the end, whatever happened: the recording's ffmpeg must never block on (or lose) this
            # pipe; a broken output would end its recording too.
            with contextlib.suppress(OSError, ValueError):
                while stream.read(65536):
                    pass

    def begin(self) -> None:
        """A run begins (a new ffmpeg): what follows is its init segment, then its fragments."""
        self._emit(Event("run"))

    def push(self, piece: fmp4.Init | fmp4.Fragment) -> None:
        if isinstance(piece, fmp4.Init):
            self._emit(Event("init", init=piece))
        else:
            self._emit(Event("fragment", fragment=piece))

    def end(self) -> None:
        """The run ended (its ffmpeg exited): viewers wait for the next run's init, for a while."""
        self._emit(Event("end"))

    def _emit(self, event: Event) -> None:
        with self._lock:
            if event.kind == "run":
                self.runs += 1
                self.error = ""
                self._running, self._init, self._gop, self._gop_size = True, None, [], 0
            elif event.kind == "init":
                self._init, self._gop, self._gop_size = event.init, [], 0
            elif event.kind == "fragment":
                self.fragments += 1
                fragment = event.fragment
                if fragment.keyframe:
                    self._gop, self._gop_size = [fragment], len(fragment.data)
                elif self._gop:
                    self._gop_size += len(fragment.data)
                    if self._gop_size > self.gop_bytes:
                        self._gop, self._gop_size = [], 0
                    else:
                        self._gop.append(fragment)
            elif event.kind == "end":
                self._running, self._init, self._gop, self._gop_size = False, None, [], 0
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:  # a listener's bug must not stop the recording's pipe reader
                    logger.exception("live feed listener failed")

    def add_listener(self, listener: Callable[[Event], None], prime: Callable[[Snapshot], None]) -> None:
        """``prime`` gets the state now, then ``listener`` every later event: nothing lost or doubled."""
        with self._lock:
            prime(Snapshot(running=self._running, init=self._init, gop=tuple(self._gop)))
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Event], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(running=self._running, init=self._init, gop=tuple(self._gop))

    def reader(self, *, queue_bytes: int = QUEUE_BYTES) -> FeedReader:
        """A thread-side subscriber (a transcoder's input): ``for kind, data in reader`` blocks."""
        return FeedReader(self, queue_bytes=queue_bytes)


@dataclass
class DropQueue:
    """A subscriber's queue of frames, bounded in bytes: when a fragment does not fit, it and every
    fragment after it are dropped until the next keyframe (a slow viewer falls to the next keyframe).
    Not thread-safe: its owner serializes access (the hub's loop, or a reader's lock)."""

    limit: int = QUEUE_BYTES
    items: deque = field(default_factory=deque)  # (kind, payload)
    size: int = 0
    need_key: bool = True  # a new run's init or a drop: nothing until a keyframe
    dropped: int = 0  # fragments dropped
    peak: int = 0  # the most bytes it has held

    def control(self, kind: bytes, payload: bytes) -> None:
        """M, I and E are never dropped (small, and a player needs them)."""
        self.items.append((kind, payload))
        self.size += len(payload)

    def start(self, init: fmp4.Init) -> None:
        self.control(b"M", json.dumps(init.meta()).encode())
        self.control(b"I", init.data)
        self.need_key = True

    def offer(self, fragment: fmp4.Fragment) -> bool:
        """Queue ``fragment`` (True) or drop it (False)."""
        if self.need_key and not fragment.keyframe:
            self.dropped += 1
            return False
        data = fragment.data
        if self.size + len(data) > self.limit:
            if not fragment.keyframe:
                self.need_key = True
                self.dropped += 1
                return False
            # A keyframe and still full: what waits is older than this keyframe; drop it, keep M/I.
            kept = deque(item for item in self.items if item[0] in (b"M", b"I", b"E"))
            self.dropped += len(self.items) - len(kept)
            self.items = kept
            self.size = sum(len(payload) for _, payload in kept)
        self.need_key = False
        self.items.append((b"K" if fragment.keyframe else b"F", data))
        self.size += len(data)
        self.peak = max(self.peak, self.size)
        return True

    def pop(self) -> tuple[bytes, bytes]:
        kind, payload = self.items.popleft()
        self.size -= len(payload)
        return kind, payload


class FeedReader:
    """A FeedSource subscriber for a thread: yields ("meta"|"init"|"key"|"fragment"|"end", bytes), with
    the same bounded queue as a network viewer; "end" when the source's run ends or on ``close()``."""

    def __init__(self, source: FeedSource, *, queue_bytes: int = QUEUE_BYTES) -> None:
        self.source = source
        self.queue = DropQueue(limit=queue_bytes)
        self._cond = threading.Condition()
        self._closed = False
        source.add_listener(self._on_event, self._prime)

    def _prime(self, snapshot: Snapshot) -> None:
        with self._cond:
            if snapshot.init is not None:
                self.queue.start(snapshot.init)
                for fragment in snapshot.gop:
                    self.queue.offer(fragment)

    def _on_event(self, event: Event) -> None:
        with self._cond:
            if event.kind == "init":
                self.queue.start(event.init)
            elif event.kind == "fragment":
                self.queue.offer(event.fragment)
            elif event.kind == "end":
                self.queue.control(b"E", json.dumps({"reason": "camera-offline"}).encode())
            self._cond.notify_all()

    def close(self) -> None:
        self.source.remove_listener(self._on_event)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        while True:
            with self._cond:
                while not self.queue.items and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                kind, payload = self.queue.pop()
            yield KIND_NAMES[kind], payload
            if kind == b"E":
                return

    def __enter__(self) -> FeedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- variants ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A feed made from a camera's source feed on demand. ``start(hub, camera_id)`` runs in a thread of
    the hub's pool when the first subscriber of this variant of the camera arrives, and should publish
    a FeedSource for it (``hub.publish(camera_id, source, variant=name)``); ``stop(hub, camera_id)`` when
    the last one leaves (or the hub closes), and should unpublish it. Neither may block for long."""

    name: str
    start: Callable[[LiveHub, int], None]
    stop: Callable[[LiveHub, int], None]


VARIANTS: dict[str, Variant] = {}


def register_variant(name: str, *, start: Callable[[LiveHub, int], None], stop: Callable[[LiveHub, int], None]) -> None:
    """Make variant ``name`` available on every hub of this process (its subscribers ask for it by name)."""
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", name) or name == SOURCE:
        raise ValueError(f"bad variant name {name!r}")
    VARIANTS[name] = Variant(name=name, start=start, stop=stop)


# --- the server ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Subscriber:
    key: tuple[int, str]
    writer: asyncio.StreamWriter
    queue: DropQueue
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    waiting_since: float | None = None  # monotonic: since when it has had no running feed to follow
    closed: bool = False

    def send(self, kind: bytes, payload: bytes) -> None:
        self.queue.control(kind, payload)
        self.wake.set()

    def end(self, reason: str) -> None:
        if not self.closed:
            self.send(b"E", json.dumps({"reason": reason}).encode())
            self.closed = True


@dataclass(eq=False)
class _Feed:
    """A published feed as the hub's loop sees it (touched only in the loop's thread)."""

    key: tuple[int, str]
    source: FeedSource | None = None
    listener: Callable[[Event], None] | None = None
    running: bool = False
    init: fmp4.Init | None = None
    gop: list[fmp4.Fragment] = field(default_factory=list)
    gop_size: int = 0
    subscribers: set[_Subscriber] = field(default_factory=set)


class LiveHub:
    """The ingest process's live server (see the module's docstring). ``start()`` binds and runs it in
    a thread; ``close()`` ends every subscriber with "stopped", stops the variants and joins the thread."""

    def __init__(
        self,
        *,
        key: bytes,
        bind: tuple[str, int] = ("127.0.0.1", 0),
        advertise: str = "",
        queue_bytes: int = QUEUE_BYTES,
        offline_grace: float = 5.0,
        variant_grace: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.bind = bind
        self.advertise = advertise
        self.queue_bytes = queue_bytes
        self.offline_grace = offline_grace
        self.variant_grace = variant_grace
        self.clock = clock
        self.refused = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._feeds: dict[tuple[int, str], _Feed] = {}
        self._variants_running: set[tuple[int, str]] = set()
        self._tasks: set[asyncio.Task] = set()
        self._start_error: BaseException | None = None
        self.port = 0

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> LiveHub:
        self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._start_error is not None:
            raise self._start_error
        return self

    @property
    def address(self) -> str:
        """Where web hosts connect: ``advertise`` when set, else the bound address (host:port); for a
        wildcard bind the address this host's name resolves to (a container's own; on a host whose name
        resolves to loopback, set LIVE_FEED_ADVERTISE)."""
        if self.advertise:
            return self.advertise if ":" in self.advertise.rsplit("]", 1)[-1] else f"{self.advertise}:{self.port}"
        host = self.bind[0]
        if host in ("", "0.0.0.0", "::"):  # noqa: S104  (a wildcard bind: this host's address, as a container has it)
            try:
                host = socket.gethostbyname(socket.gethostname())
            except OSError:
                host = socket.getfqdn()
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._ready.set()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        try:
            self._server = await asyncio.start_server(self._serve, self.bind[0], self.bind[1], limit=MAX_LINE)
        except OSError as exc:
            self._start_error = exc
            self._ready.set()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        sweeper = asyncio.create_task(self._sweep())
        await self._stopping.wait()
        sweeper.cancel()
        self._server.close()
        for feed in list(self._feeds.values()):
            for subscriber in list(feed.subscribers):
                subscriber.end("stopped")
            if feed.source is not None and feed.listener is not None:
                feed.source.remove_listener(feed.listener)
        if self._tasks:  # the subscribers' writers send their E and close (bounded: a stuck client is cut)
            await asyncio.wait(list(self._tasks), timeout=2)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for camera_id, name in list(self._variants_running):
            self._variants_running.discard((camera_id, name))
            variant = VARIANTS.get(name)
            if variant is not None:
                await asyncio.get_running_loop().run_in_executor(None, self._call_variant, variant.stop, camera_id)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    def close(self, timeout: float = 10.0) -> None:
        loop = self.loop
        if loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _call(self, callback: Callable, *args: object) -> None:
        """Run ``callback`` in the loop's thread (from any thread); nothing once the hub has closed."""
        loop = self.loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback, *args)

    # Publishing (any thread) ---------------------------------------------------------------------

    def publish(self, camera_id: int, source: FeedSource, *, variant: str = SOURCE) -> None:
        """Serve ``source`` as this camera's ``variant`` (replacing the one published before, if any)."""
        key = (camera_id, variant)

        def listener(event: Event) -> None:
            self._call(self._on_event, key, source, event)

        def prime(snapshot: Snapshot) -> None:
            self._call(self._on_publish, key, source, listener, snapshot)

        source.add_listener(listener, prime)

    def unpublish(self, camera_id: int, *, variant: str = SOURCE, source: FeedSource | None = None) -> None:
        """Stop serving this camera's ``variant`` (only if it is still ``source``, when given): its
        subscribers get E "stopped"."""
        self._call(self._on_unpublish, (camera_id, variant), source)

    def source(self, camera_id: int, variant: str = SOURCE) -> FeedSource | None:
        """The FeedSource published for the camera's ``variant`` (a variant producer reads "source")."""
        feed = self._feeds.get((camera_id, variant))
        return feed.source if feed is not None else None

    def published(self) -> set[tuple[int, str]]:
        return {key for key, feed in list(self._feeds.items()) if feed.source is not None}

    def queues(self, camera_id: int) -> list[DropQueue]:
        """The queues of the camera's viewers (for tests and stats; read from another thread: approximate)."""
        return [
            s.queue for key, feed in list(self._feeds.items()) if key[0] == camera_id for s in list(feed.subscribers)
        ]

    def subscribers(self, camera_id: int, variant: str | None = None) -> int:
        """How many viewers follow the camera (one variant, or all)."""
        return sum(
            len(feed.subscribers)
            for key, feed in list(self._feeds.items())
            if key[0] == camera_id and (variant is None or key[1] == variant)
        )

    # The loop's side --------------------------------------------------------------------------------

    def _feed(self, key: tuple[int, str]) -> _Feed:
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed(key=key)
        return feed

    def _on_publish(self, key: tuple[int, str], source: FeedSource, listener: Callable, snapshot: Snapshot) -> None:
        feed = self._feed(key)
        if feed.source is not None and feed.source is not source and feed.listener is not None:
            feed.source.remove_listener(feed.listener)
        feed.source, feed.listener = source, listener
        feed.running, feed.init, feed.gop = snapshot.running, snapshot.init, list(snapshot.gop)
        feed.gop_size = sum(len(fragment.data) for fragment in feed.gop)
        for subscriber in feed.subscribers:
            if feed.init is not None:
                subscriber.queue.start(feed.init)
                subscriber.waiting_since = None
                for fragment in feed.gop:
                    subscriber.queue.offer(fragment)
                subscriber.wake.set()

    def _on_unpublish(self, key: tuple[int, str], source: FeedSource | None) -> None:
        feed = self._feeds.get(key)
        if feed is None or feed.source is None or (source is not None and feed.source is not source):
            return
        if feed.listener is not None:
            feed.source.remove_listener(feed.listener)
        if key[1] != SOURCE and key in self._variants_running and feed.subscribers:
            # A viewer arrived while the variant's last producer was stopping (its stop runs in a thread:
            # the transcode's ffmpeg is killed and joined first), and its arrival started a new producer.
            # Those viewers wait for the new one's publish, within the variant's grace, as on a first start;
            # ending them with "stopped" would close the live view of a viewer who came back.
            feed.source, feed.listener = None, None
            feed.running, feed.init, feed.gop, feed.gop_size = False, None, [], 0
            now = time.monotonic()
            for subscriber in feed.subscribers:
                subscriber.waiting_since = subscriber.waiting_since or now
            return
        for subscriber in list(feed.subscribers):
            subscriber.end("stopped")
        del self._feeds[key]

    def _on_event(self, key: tuple[int, str], source: FeedSource, event: Event) -> None:
        feed = self._feeds.get(key)
        if feed is None or feed.source is not source:
            return
        if event.kind == "run":
            feed.running, feed.init, feed.gop, feed.gop_size = True, None, [], 0
        elif event.kind == "init":
            feed.init, feed.gop, feed.gop_size = event.init, [], 0
            for subscriber in feed.subscribers:
                subscriber.queue.start(event.init)
                subscriber.waiting_since = None
                subscriber.wake.set()
        elif event.kind == "fragment":
            fragment = event.fragment
            if fragment.keyframe:
                feed.gop, feed.gop_size = [fragment], len(fragment.data)
            elif feed.gop:
                feed.gop_size += len(fragment.data)
                if feed.gop_size > source.gop_bytes:  # as the source: a GOP too long is not kept
                    feed.gop, feed.gop_size = [], 0
                else:
                    feed.gop.append(fragment)
            for subscriber in feed.subscribers:
                if subscriber.queue.offer(fragment):
                    subscriber.wake.set()
        elif event.kind == "end":
            feed.running, feed.init, feed.gop, feed.gop_size = False, None, [], 0
            now = time.monotonic()
            for subscriber in feed.subscribers:
                subscriber.waiting_since = now

    async def _sweep(self) -> None:
        """Every half second: a viewer left without a running feed past its grace hears "camera-offline"."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for key, feed in list(self._feeds.items()):
                grace = self.offline_grace if key[1] == SOURCE else self.variant_grace
                for subscriber in list(feed.subscribers):
                    if (
                        feed.init is None
                        and subscriber.waiting_since is not None
                        and now - subscriber.waiting_since > grace
                    ):
                        subscriber.end("camera-offline")

    # One client ----------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1)

    async def _refuse(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.refused += 1
        logger.info("live feed: refused a subscriber from %s: %s", writer.get_extra_info("peername"), why)
        writer.write(end_frame("refused"))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), timeout=2)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), timeout=LINE_TIMEOUT)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            await self._refuse(writer, "no SUB line")
            return
        match = SUB_LINE.fullmatch(line)
        if match is None:
            await self._refuse(writer, "malformed SUB line")
            return
        camera_id, variant, expires = int(match[1]), match[2].decode(), int(match[3])
        if not hmac.compare_digest(sign(self.key, camera_id, variant, expires), match[4].decode()):
            await self._refuse(writer, "bad signature")
            return
        if expires < self.clock():
            await self._refuse(writer, "expired")
            return
        if variant != SOURCE and variant not in VARIANTS:
            await self._refuse(writer, f"unknown variant {variant}")
            return
        key = (camera_id, variant)
        source_feed = self._feeds.get((camera_id, SOURCE))
        if source_feed is None or source_feed.source is None:
            writer.write(end_frame("camera-offline"))  # not recorded by this worker (any more)
            await writer.drain()
            return
        feed = self._feed(key)
        subscriber = _Subscriber(key=key, writer=writer, queue=DropQueue(limit=self.queue_bytes))
        if feed.init is not None:
            subscriber.queue.start(feed.init)
            for fragment in feed.gop:
                subscriber.queue.offer(fragment)
        else:
            subscriber.waiting_since = time.monotonic()
        first = not feed.subscribers
        feed.subscribers.add(subscriber)
        if first and variant != SOURCE:
            self._variant_start(camera_id, variant)
        watcher = asyncio.create_task(self._watch_client(reader, subscriber))
        try:
            await self._write(subscriber)
        finally:
            watcher.cancel()
            feed.subscribers.discard(subscriber)
            if not feed.subscribers and variant != SOURCE:
                self._variant_stop(camera_id, variant)
                if feed.source is None:
                    self._feeds.pop(key, None)

    async def _watch_client(self, reader: asyncio.StreamReader, subscriber: _Subscriber) -> None:
        """A client says nothing after its SUB line; its end (or anything it sends) ends the session."""
        with contextlib.suppress(Exception):
            await reader.read(MAX_LINE)
        subscriber.closed = True
        subscriber.wake.set()

    async def _write(self, subscriber: _Subscriber) -> None:
        writer = subscriber.writer
        while True:
            while subscriber.queue.items:
                kind, payload = subscriber.queue.pop()
                writer.writelines([frame_header(kind, len(payload)), payload])
                await writer.drain()
                if kind == b"E":
                    return
            if subscriber.closed:
                return
            subscriber.wake.clear()
            await subscriber.wake.wait()

    # Variants -------------------------------------------------------------------------------------

    def _call_variant(self, callback: Callable[[LiveHub, int], None], camera_id: int) -> None:
        try:
            callback(self, camera_id)
        except Exception:
            logger.exception("live feed: variant producer of camera %s failed", camera_id)

    def _variant_start(self, camera_id: int, name: str) -> None:
        variant = VARIANTS[name]
        self._variants_running.add((camera_id, name))
        self.loop.run_in_executor(None, self._call_variant, variant.start, camera_id)

    def _variant_stop(self, camera_id: int, name: str) -> None:
        if (camera_id, name) not in self._variants_running:
            return
        self._variants_running.discard((camera_id, name))
        variant = VARIANTS.get(name)
        if variant is not None:
            self.loop.run_in_executor(None, self._call_variant, variant.stop, camera_id)


# --- a blocking client (tests, tools) ------------------------------------------------------------


def split_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class FeedConnection:
    """One subscription over a plain socket: sends ``line`` and reads frames as ("meta" | "init" | "key" |
    "fragment" | "end", payload). Frames over MAX_FRAME end it (ConnectionError)."""

    def __init__(self, address: str, line: bytes, *, timeout: float = 10.0, receive_buffer: int = 0) -> None:
        host, port = split_address(address)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # a slow link in tests: little in flight
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.sendall(line)
        self.stream = self.sock.makefile("rb")

    def read(self) -> tuple[str, bytes] | None:
        """The next frame; None once the server has closed the connection."""
        header = fmp4.read_exact(self.stream, 5)
        if len(header) < 5:
            return None
        size = int.from_bytes(header[1:5], "big")
        kind = KIND_NAMES.get(header[:1])
        if kind is None or size > MAX_FRAME:
            raise ConnectionError(f"bad frame from the live feed: {header[:1]!r}, {size} bytes")
        payload = fmp4.read_exact(self.stream, size)
        if len(payload) < size:
            return None
        return kind, payload

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        while (item := self.read()) is not None:
            yield item

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.close()
            self.sock.close()

    def __enter__(self) -> FeedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
