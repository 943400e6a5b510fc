"""The camera's own motion and storage events over ONVIF: a PullPoint subscription (onvif-zeep-async).

CreatePullPointSubscription on the device's event service, then PullMessages (a long poll: the device
answers as soon as a message is there, or after the timeout with none), Renew before the subscription's
termination time, Unsubscribe at the end. The topics read (docs/user-guide.md, "Motion"):

- ``tns1:RuleEngine/CellMotionDetector/Motion`` (data ``IsMotion``), ``tns1:VideoSource/MotionAlarm``
  (``State``) and ``tns1:RuleEngine/MotionRegionDetector/Motion`` (``State``): the camera's motion;
- ``tns1:Device/HardwareFailure/StorageFailure`` (``Failed``): the device's storage (an edge recorder's
  or a camera's SD card) failed.

A new subscription first gets each property's current value (PropertyOperation "Initialized"), so a
short one answers "is the storage failing now" for "refresh trouble info" (``storage_state``).

Everything the device names goes through the outbound-connection policy exactly as in recording/onvif.py
(the same guarded camera: every service address and the subscription's address pinned to a checked
address, no redirect, every answer bounded before it is parsed). Failures are OnvifError.

Synchronous on purpose: one ingest thread owns one Subscription, which runs its own event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from workers import netpolicy
from workers.probe_camera import Problem
from workers.redaction import redact

from .onvif import OnvifError, _camera_class, _classify, _Device, _refused

EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
PULLPOINT_NS = f"{EVENTS_NS}/PullPointSubscription"

MOTION_TOPICS = {
    "RuleEngine/CellMotionDetector/Motion": "IsMotion",
    "VideoSource/MotionAlarm": "State",
    "RuleEngine/MotionRegionDetector/Motion": "State",
}
STORAGE_TOPICS = {"Device/HardwareFailure/StorageFailure": "Failed"}
MAX_MESSAGES = 64
# A message's UtcTime (the device's moment of the change, corrected by its clock offset) is the event's
# start or end when it is at most this far before the message arrived, or this little after; a stamp
# outside (a clock that was never set, a queue replayed after a reboot) falls back to the arrival time.
UTC_TIME_MAX_AGE_SECONDS = 300.0
UTC_TIME_MAX_AHEAD_SECONDS = 1.0


class NoEventService(OnvifError):
    """The device answers ONVIF but names no event service: not a fault, only no events."""


@dataclass(frozen=True)
class Event:
    kind: str  # "motion" or "storage"
    active: bool  # motion going on / storage failed
    at: float  # epoch seconds, on this machine's clock
    initialized: bool  # the current value a new subscription is told, not a change
    sources: frozenset[str] = frozenset()  # the message's Source values (tokens of the video source …)


def topic_name(text: str) -> str:
    """``tns1:RuleEngine/CellMotionDetector/Motion`` → ``RuleEngine/CellMotionDetector/Motion`` (any prefix)."""
    return "/".join(part.rsplit(":", 1)[-1] for part in str(text or "").strip().split("/"))


def _local(name: object) -> str:
    return str(name).rsplit("}", 1)[-1]


def _items(message, container: str) -> dict[str, str]:
    """The SimpleItems under tt:Source or tt:Data, from zeep's object (the usual) or a raw lxml element."""
    found: dict[str, str] = {}
    if hasattr(message, "tag"):  # lxml: zeep could not bind it to the schema
        for child in message:
            if _local(getattr(child, "tag", "")) == container:
                for item in child:
                    if _local(getattr(item, "tag", "")) == "SimpleItem" and item.get("Name"):
                        found[item.get("Name")] = item.get("Value", "")
        return found
    for item in getattr(getattr(message, container, None), "SimpleItem", None) or []:
        name = getattr(item, "Name", None)
        if name:
            found[str(name)] = str(getattr(item, "Value", "") or "")
    return found


def _attribute(message, name: str):  # noqa: ANN202
    return message.get(name) if hasattr(message, "tag") else getattr(message, name, None)


def parse_message(topic: str, message, *, received: float, clock_offset: float = 0.0) -> Event | None:
    """One NotificationMessage (its topic text and its tt:Message, as zeep bound it) → an Event, or None
    for a topic this portal does not read. ``clock_offset``: the device's clock minus this machine's.
    The event's time is the message's UtcTime on this machine's clock, within the bounds above of
    ``received`` (else ``received``): a motion's start and end are when the device saw them, not when
    the long poll brought them."""
    name = topic_name(topic)
    kind, key = ("motion", MOTION_TOPICS.get(name)) if name in MOTION_TOPICS else ("storage", STORAGE_TOPICS.get(name))
    if key is None or message is None:
        return None
    data = _items(message, "Data")
    if key not in data:
        return None
    active = data[key].strip().lower() in ("true", "1")
    at = received
    stamp = _attribute(message, "UtcTime")
    try:
        moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        device_at = moment.timestamp() - clock_offset
        if received - UTC_TIME_MAX_AGE_SECONDS <= device_at <= received + UTC_TIME_MAX_AHEAD_SECONDS:
            at = device_at
    return Event(
        kind=kind,
        active=active,
        at=at,
        initialized=str(_attribute(message, "PropertyOperation") or "") == "Initialized",
        sources=frozenset(v for v in _items(message, "Source").values() if v),
    )


def _seconds(result, fallback: float) -> float:
    current, until = getattr(result, "CurrentTime", None), getattr(result, "TerminationTime", None)
    if isinstance(current, datetime) and isinstance(until, datetime):
        return max(1.0, (until - current).total_seconds())
    return fallback


@dataclass
class Subscription:
    """One PullPoint subscription. ``profile_index`` and ``channel``: for a channel of an edge recorder,
    only motion whose source names that channel's media profile (its token, its video source or video
    source configuration) counts; a camera's own motion counts whatever source it names."""

    host: str
    port: int | None
    user: str
    password: str
    profile_index: int = 0
    channel: bool = False
    timeout: float = 10.0
    seconds: int = 60  # the termination time asked for; renewed at 80 % of what the device grants
    renewals: int = field(default=0, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _camera: object = field(default=None, init=False, repr=False)
    _pull: object = field(default=None, init=False, repr=False)
    _subscription: object = field(default=None, init=False, repr=False)
    _renew_at: float = field(default=0.0, init=False)
    _until: float = field(default=0.0, init=False)
    _tokens: frozenset[str] = field(default=frozenset(), init=False)
    _offset: float = field(default=0.0, init=False)

    # Public, synchronous ---------------------------------------------------------------------------

    def open(self) -> Subscription:
        """CreatePullPointSubscription; raises OnvifError (NOT_FOUND: the device has no event service)."""
        self._loop = asyncio.new_event_loop()
        try:
            self._call(self._open(), self.timeout)
        except OnvifError:
            self.close()
            raise
        return self

    def pull(self, wait: float = 5.0) -> list[Event]:
        """The messages of the next ``wait`` seconds at most (fewer when some come earlier), renewing the
        subscription when due. Raises OnvifError when the device stops answering or drops the subscription."""
        if time.monotonic() + wait >= self._renew_at:  # it would come due during this long poll
            self._call(self._renew(), self.timeout)
        wait = min(wait, max(0.1, 0.5 * (self._until - time.monotonic())))  # a short lease: shorter polls
        return self._call(self._pull_messages(wait), wait + self.timeout)

    def close(self) -> None:
        """Unsubscribe (best effort: an unreachable device lets the subscription expire) and close."""
        if self._loop is None:
            return
        try:
            self._loop.run_until_complete(asyncio.wait_for(self._close(), 5.0))
        except Exception:  # noqa: BLE001, S110 (a courtesy to the device; the subscription times out there)
            pass
        finally:
            self._loop.close()
            self._loop = None

    def __enter__(self) -> Subscription:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The exchange ----------------------------------------------------------------------------------

    def _call(self, coroutine, timeout: float):  # noqa: ANN001, ANN202
        if self._loop is None:
            coroutine.close()
            raise OnvifError(Problem.NETWORK, "the ONVIF event subscription is closed")
        try:
            return self._loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
        except OnvifError as exc:
            raise type(exc)(exc.problem, redact(exc.message, [self.password])) from None
        except Exception as exc:  # the library raises many kinds; each maps onto one problem
            found = _classify(exc)
            raise OnvifError(found.problem, redact(found.message, [self.password])) from exc

    async def _open(self) -> None:
        policy = netpolicy.current()
        try:
            host = netpolicy.clean_host(self.host)
            device = _Device(host, policy.resolve(host, self.port or 80), policy)
        except netpolicy.Refused as exc:
            if exc.code == "resolve":
                raise OnvifError(Problem.NETWORK, f"cannot reach the ONVIF service: {exc.message}") from None
            raise _refused("ONVIF host", exc) from None
        camera = _camera_class()(device.addresses[0], self.port or 80, self.user or None, self.password or None)
        camera.device = device
        self._camera = camera
        await camera.update_xaddrs()
        camera.xaddrs = {ns: device.pinned(x, what="service address (XAddr)") for ns, x in camera.xaddrs.items()}
        if EVENTS_NS not in camera.xaddrs:
            raise NoEventService(Problem.NOT_FOUND, "the ONVIF device has no event service")
        if camera.dt_diff is not None:
            self._offset = camera.dt_diff.total_seconds()
        if self.channel:
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            if self.profile_index >= len(profiles or []):
                raise OnvifError(
                    Problem.NOT_FOUND, f"the recorder has no media profile for channel {self.profile_index + 1}"
                )
            profile = profiles[self.profile_index]
            source = getattr(profile, "VideoSourceConfiguration", None)
            self._tokens = frozenset(
                str(t)
                for t in (profile.token, getattr(source, "token", None), getattr(source, "SourceToken", None))
                if t
            )
        events = await camera.create_events_service()
        result = await events.CreatePullPointSubscription({"InitialTerminationTime": f"PT{int(self.seconds)}S"})
        reference = getattr(getattr(result.SubscriptionReference, "Address", None), "_value_1", None)
        address = device.pinned(str(reference or ""), what="event subscription address")
        camera.xaddrs[PULLPOINT_NS] = address
        self._pull = await camera.create_pullpoint_service()
        self._subscription = await camera.create_subscription_service("PullPointSubscription")
        self._lease(result)

    def _lease(self, result) -> None:  # noqa: ANN001
        granted = _seconds(result, self.seconds)
        self._until = time.monotonic() + granted
        self._renew_at = time.monotonic() + 0.8 * granted

    async def _renew(self) -> None:
        result = await self._subscription.Renew(f"PT{int(self.seconds)}S")
        self.renewals += 1
        self._lease(result)

    async def _pull_messages(self, wait: float) -> list[Event]:
        answer = await self._pull.PullMessages({"Timeout": timedelta(seconds=wait), "MessageLimit": MAX_MESSAGES})
        received = time.time()
        found = []
        for message in getattr(answer, "NotificationMessage", None) or []:
            topic = getattr(getattr(message, "Topic", None), "_value_1", None)
            element = getattr(getattr(message, "Message", None), "_value_1", None)
            event = parse_message(str(topic or ""), element, received=received, clock_offset=self._offset)
            if event is None:
                continue
            if event.kind == "motion" and self.channel and event.sources and not (event.sources & self._tokens):
                continue  # another channel's motion
            found.append(event)
        return found

    async def _close(self) -> None:
        try:
            if self._subscription is not None:
                await self._subscription.Unsubscribe()
        finally:
            if self._camera is not None:
                await self._camera.close()


def storage_state(**where: object) -> bool | None:
    """Whether the device reports its storage failed right now (True / False), or None when it does not
    say (no event service, no storage topic in its first answer). Raises OnvifError when unreachable."""
    with Subscription(**where) as subscription:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            for event in subscription.pull(wait=1.0):
                if event.kind == "storage":
                    return event.active
    return None
