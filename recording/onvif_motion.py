"""One ONVIF camera's events in the recorder: its own motion, with no decoding, and its storage.

Every ONVIF camera and edge recorder channel the recorder holds gets one PullPoint subscription
(recording/onvif_events.py), in a thread of its ingest (`run`):

- with motion source "ONVIF motion events", a motion message starts an event and the next "no motion"
  ends it (a motion that goes on is reported in ~1-minute parts, as server-side motion does); each
  becomes a motion event, so an event clip, exactly like a motion sensor's. Nothing is decoded;
- a storage failure message (tns1:Device/HardwareFailure/StorageFailure) puts the camera into the
  "storage (SD card) error" trouble; "fixed" clears it when the portal's own storage is fine too;
- server-side motion is the fallback: while the device has no event service or its subscription fails,
  the camera is watched by server-side motion (keyframes only, recording/ingest.py ``run_motion`` of a
  second CameraIngest whose recorder never starts), the camera page says so, and the subscription is
  tried again every RECORDING_ONVIF_EVENTS_RETRY_SECONDS; when it is back, server-side motion stops.

With another motion source the subscription is only for the storage state; a device without events
then costs nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

from django.db import close_old_connections

from devices.models import StreamSource, TroubleState
from workers.probe_camera import Problem

from . import conf, media_services
from .models import CameraRecording, IngestLease, MotionDecode, MotionEvent, MotionNote
from .onvif import OnvifError
from .onvif_events import NoEventService, Subscription
from .streams import onvif_source
from .trouble import trouble_for

logger = logging.getLogger(__name__)

PULL_SECONDS = 2.0  # one PullMessages long poll (short: stopping the camera waits for it)


def subscription_for(camera, *, seconds: float | None = None) -> Subscription | None:
    """The (unopened) subscription for `camera`'s events: its own, or its edge recorder's for a channel."""
    source = onvif_source(camera)
    if source is None:
        return None
    return Subscription(
        host=source.host,
        port=source.port,
        user=source.user,
        password=source.password,
        profile_index=source.profile_index,
        channel=camera.stream_source == StreamSource.NONE and camera.is_recorder_channel,
        seconds=int(seconds or conf.onvif_events_seconds()),
    )


def storage_failed_set(camera, failed: bool, *, own_storage_ok: bool = True) -> None:
    """What the device said about its storage: the trouble follows (and mails once, on a transition)."""
    CameraRecording.objects.filter(camera_id=camera.pk).update(device_storage_failed=failed)
    camera.refresh_from_db(fields=["trouble_state"])
    if failed:
        media_services.trouble_set(camera=camera, state="storage")
    elif camera.trouble_state == "storage" and own_storage_ok:
        media_services.trouble_set(camera=camera, state="")


def _recording(camera) -> bool:  # noqa: ANN001
    return IngestLease.objects.filter(camera_id=camera.pk, state=IngestLease.State.RECORDING).exists()


class _Fallback:
    """Server-side motion for the camera while its events are unavailable."""

    def __init__(self, ingest) -> None:  # noqa: ANN001
        self.shadow = replace(ingest, server_motion=True, onvif_events=False)
        self.thread = threading.Thread(target=self._run, name=f"motion-fallback-{ingest.camera_id}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.shadow.run_motion()
        except Exception:  # noqa: BLE001 (a crash ends the fallback; the next failure starts another)
            logger.exception("camera %s: server-side motion (fallback) crashed", self.shadow.camera_id)
        finally:
            from django.db import connection

            connection.close()

    def stop(self) -> None:
        self.shadow.stop_event.set()
        self.thread.join(timeout=20)


def run(ingest) -> None:  # noqa: ANN001 (a recording.ingest.CameraIngest)
    """The camera's event subscription until the ingest stops; see the module docstring."""
    fallback: _Fallback | None = None
    try:
        while not ingest.stop_event.is_set():
            close_old_connections()
            camera = ingest.camera()
            if camera is None:
                return
            subscription = subscription_for(camera)
            if subscription is None:
                return
            try:
                subscription.open()
            except OnvifError as exc:
                logger.info("camera %s: ONVIF events unavailable: %s", ingest.camera_id, exc.message)
                if ingest.onvif_motion and fallback is None:
                    ingest._motion_status(note=MotionNote.EVENTS_DOWN)
                    fallback = _Fallback(ingest)
                if exc.problem in (Problem.AUTH, Problem.NOT_FOUND) and not isinstance(exc, NoEventService):
                    # The account was changed, or the recorder's channel removed ("no event service" is
                    # a NOT_FOUND of another kind: not the device's fault, only no events).
                    media_services.trouble_set(camera=camera, state=trouble_for(camera, exc.problem))
                ingest.stop_event.wait(conf.onvif_events_retry_seconds())
                continue
            if camera.trouble_state == TroubleState.DELETED and _recording(camera):
                media_services.trouble_set(camera=camera, state="")  # the account works again
            if fallback is not None:
                logger.info("camera %s: ONVIF events are back; server-side motion stops", ingest.camera_id)
                fallback.stop()
                fallback = None
            if ingest.onvif_motion:
                ingest._motion_status(decode=MotionDecode.NONE, stream="", gop_seconds=None, note="")
            try:
                _pump(ingest, subscription)
            except OnvifError as exc:
                logger.info("camera %s: ONVIF event subscription lost: %s", ingest.camera_id, exc.message)
            finally:
                subscription.close()
    finally:
        if fallback is not None:
            fallback.stop()


def _pump(ingest, subscription: Subscription) -> None:  # noqa: ANN001
    since: float | None = None  # the open motion's start (or the end of its last reported part)
    try:
        while not ingest.stop_event.is_set():
            events = subscription.pull(wait=PULL_SECONDS)
            close_old_connections()
            for event in events:
                if event.kind == "storage":
                    camera = ingest.camera()
                    if camera is not None:
                        storage_failed_set(camera, event.active, own_storage_ok=not ingest.unstored)
                elif not ingest.onvif_motion:
                    continue
                elif event.active and since is None:
                    since = event.at
                elif not event.active and since is not None:
                    _record(ingest, since, max(event.at, since))
                    since = None
            if since is not None and time.time() - since >= conf.max_event_seconds():
                now = time.time()
                _record(ingest, since, now)  # somebody keeps moving: ~1-minute parts, as server-side motion
                since = now
    finally:
        if since is not None:  # the subscription ended during a motion: what was seen is kept
            _record(ingest, since, time.time())


def _record(ingest, start: float, end: float) -> None:  # noqa: ANN001
    camera = ingest.camera()
    if camera is None:
        return
    media_services.motion_record(
        trigger=camera,
        at=datetime.fromtimestamp(start, tz=UTC),
        ended_at=datetime.fromtimestamp(end, tz=UTC),
        source=MotionEvent.Source.SENSOR,
    )
