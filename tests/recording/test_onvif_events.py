"""Motion from the camera's own sensor over ONVIF (issue 16 point 7): the recorder subscribes to the
camera's events (PullPoint, through onvif-zeep-async) on the simulated ONVIF device, a motion message
makes an event clip with nothing decoded on the server, the subscription is renewed, and server-side
motion takes over while the device's events are unavailable (and stops when they are back)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from lxml import etree

from demo.onvif_sim import OnvifDevice
from demo.rtsp_sim import SimCamera
from devices.models import StreamSource
from recording.models import CameraRecording, EventClip, MotionDecode, MotionEvent, MotionNote, MotionSource
from recording.onvif_events import Subscription, parse_message
from tests.recording.media import VTEST, Running, media_settings, segments, wait_for
from tests.waiting import patience

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def device(sim):
    onvif = OnvifDevice(sim, username="admin", password="s3cret").start()
    yield onvif
    onvif.stop()


def _onvif(camera, device: OnvifDevice, motion: str = MotionSource.ONVIF) -> None:
    camera.stream_source = StreamSource.ONVIF
    camera.onvif_host, camera.onvif_port = "127.0.0.1", device.port
    camera.onvif_user, camera.onvif_password = "admin", "s3cret"
    camera.save()
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": motion}
    )


def _row(camera) -> CameraRecording:
    return CameraRecording.objects.get(camera=camera)


def _decoders() -> list[list[str]]:
    """The ffmpeg children of this process that decode frames for server-side motion (raw video out)."""
    found = []
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if cmd and "ffmpeg" in os.path.basename(cmd[0]) and "rawvideo" in cmd:
            found.append(cmd)
    return found


def _moments(*, seconds: int) -> tuple[datetime, datetime]:
    """A motion of `seconds` that ended a second ago, in the whole seconds a device's UtcTime carries."""
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    return end - timedelta(seconds=seconds), end


def _from_the_device(event: MotionEvent, start: datetime, end: datetime) -> None:
    """The event spans the UtcTime values the device sent, not the messages' arrival: the same length to the
    millisecond, placed on this machine's clock by the device's clock offset. That offset is read in whole
    seconds, after its answer's trip (onvif-zeep-async's dt_diff: up to a second plus that trip, which a
    loaded machine makes long), so the place is checked within 3 s; the messages arrive 4 s and more after
    the start (`_moments`), so an event placed at the arrival still fails here."""
    assert abs((event.ended_at - event.at) - (end - start)) < timedelta(milliseconds=1)
    assert abs(event.at - start) < timedelta(seconds=3)


def test_a_utc_time_far_from_the_arrival_falls_back_to_the_arrival():
    def message(stamp: str):
        return etree.fromstring(
            f'<tt:Message xmlns:tt="http://www.onvif.org/ver10/schema" UtcTime="{stamp}" PropertyOperation="Changed">'
            '<tt:Source/><tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data></tt:Message>'
        )

    received = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC).timestamp()
    topic = "tns1:RuleEngine/CellMotionDetector/Motion"

    def at(stamp: str, offset: float = 0.0) -> float:
        return parse_message(topic, message(stamp), received=received, clock_offset=offset).at

    assert at("2026-03-02T09:59:57Z") == received - 3  # the device's moment
    assert at("2026-03-02T10:00:05Z", offset=6.0) == received - 1  # its clock runs 6 s ahead
    assert at("2026-03-02T09:50:00Z") == received  # ten minutes old: a clock not to trust
    assert at("2026-03-02T10:00:30Z") == received  # in the future
    assert at("1970-01-01T00:00:00Z") == received  # never set
    assert at("not a time") == received


def test_the_client_subscribes_pulls_renews_and_unsubscribes(device):
    # Renewed at 80 % of what the device grants: 4 s leaves the renewal 0.8 s to reach the device (the device
    # answers from a thread of this process, which a loaded machine can hold up for a good part of a second).
    device.max_subscription_seconds = 4
    with Subscription(
        host="127.0.0.1", port=device.port, user="admin", password="s3cret", seconds=30, timeout=patience(10)
    ) as sub:
        first = sub.pull(wait=1)
        assert {(e.kind, e.active, e.initialized) for e in first} == {("motion", False, True), ("storage", False, True)}
        device.raise_motion(True, topic="alarm")
        assert [(e.kind, e.active) for e in sub.pull(wait=2)] == [("motion", True)]
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline:  # past the first termination times: alive only if renewed
            sub.pull(wait=0.5)
        device.raise_motion(False)
        assert [(e.kind, e.active) for e in sub.pull(wait=2)] == [("motion", False)]
        assert sub.renewals >= 2 and device.renewals == sub.renewals and device.subscriptions == 1
    assert device.unsubscribed == 1 and device.live_subscriptions() == 0


def test_a_motion_event_from_the_camera_makes_an_event_clip_with_nothing_decoded_on_the_server(
    alpha, device, settings, tmp_path
):
    media_settings(settings, tmp_path)
    # A loaded machine's ffmpeg may write nothing for more than the 5 s that the fault tests take as an outage;
    # a restart then leaves the event's window unrecorded, and with no recording there is no clip to cut.
    settings.RECORDING_STALL_SECONDS = 30
    _onvif(alpha.camera, device)
    worker = Running("w1")
    try:
        supervisor = worker.tick()
        ingest = supervisor.ingests[alpha.camera.pk]
        assert wait_for(lambda: device.live_subscriptions() == 1, timeout=20)
        assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)
        # The device saw 4 s of motion that ended a second ago; both messages come in one long poll.
        start, end = _moments(seconds=4)
        device.raise_motion(True, at=start)
        device.raise_motion(False, at=end)
        assert wait_for(lambda: MotionEvent.objects.filter(camera=alpha.camera).exists(), timeout=15)
        event = MotionEvent.objects.get(camera=alpha.camera)
        assert event.source == MotionEvent.Source.SENSOR and event.triggered_by_id == alpha.camera.pk
        _from_the_device(event, start, end)
        # No server-side motion for this camera: no motion thread, no decoding ffmpeg.
        names = [thread.name for thread in ingest.threads]
        assert f"onvif-events-{alpha.camera.pk}" in names and f"motion-{alpha.camera.pk}" not in names
        assert _decoders() == []
        assert _row(alpha.camera).motion_decode == MotionDecode.NONE
        assert wait_for(lambda: EventClip.objects.filter(camera=alpha.camera).exists(), timeout=40)
    finally:
        worker.close()
    assert device.unsubscribed >= 1  # a clean stop ends the subscription on the device too


def test_the_recorder_renews_its_subscription(alpha, device, settings, tmp_path):
    media_settings(settings, tmp_path)
    settings.RECORDING_ONVIF_EVENTS_SECONDS = 4  # short, renewed at 80 %: 0.8 s for the renewal to get there
    _onvif(alpha.camera, device)
    worker = Running("w1")
    try:
        worker.tick()
        assert wait_for(lambda: device.renewals >= 3, timeout=25)
        assert device.subscriptions == 1  # the same one, renewed (not a new one each time it expired)
        start, end = _moments(seconds=3)
        device.raise_motion(True, at=start)
        device.raise_motion(False, at=end)
        assert wait_for(lambda: MotionEvent.objects.filter(camera=alpha.camera).exists(), timeout=15)
        _from_the_device(MotionEvent.objects.get(camera=alpha.camera), start, end)
    finally:
        worker.close()


def test_without_events_server_side_motion_takes_over_and_stops_when_they_are_back(alpha, device, settings, tmp_path):
    media_settings(settings, tmp_path)
    settings.RECORDING_ONVIF_EVENTS_RETRY_SECONDS = 1
    _onvif(alpha.camera, device)
    worker = Running("w1")
    try:
        worker.tick()
        assert wait_for(lambda: device.live_subscriptions() == 1, timeout=20)
        assert _decoders() == []
        device.events = False  # the event responder is gone (the stream goes on)
        device.stop_subscriptions()
        assert wait_for(
            lambda: _row(alpha.camera).motion_note == MotionNote.EVENTS_DOWN
            and _row(alpha.camera).motion_decode == MotionDecode.KEYFRAMES,
            timeout=60,
        )
        assert wait_for(lambda: len(_decoders()) == 1, timeout=30)  # server-side motion, keyframes only
        assert "nokey" in _decoders()[0]
        device.events = True
        assert wait_for(lambda: device.live_subscriptions() == 1, timeout=20)
        assert wait_for(lambda: _decoders() == [], timeout=25)  # server-side motion stopped again
        assert wait_for(lambda: _row(alpha.camera).motion_note == "", timeout=10)
        assert _row(alpha.camera).motion_decode == MotionDecode.NONE
        assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)  # recording never stopped
    finally:
        worker.close()


def test_a_camera_without_an_event_service_is_watched_by_server_side_motion(alpha, device, settings, tmp_path):
    media_settings(settings, tmp_path)
    device.events = False
    _onvif(alpha.camera, device)
    worker = Running("w1")
    try:
        worker.tick()
        assert wait_for(lambda: _row(alpha.camera).motion_note == MotionNote.EVENTS_DOWN, timeout=20)
        assert wait_for(lambda: len(_decoders()) == 1, timeout=15)
    finally:
        worker.close()


def test_onvif_motion_events_are_refused_for_a_camera_that_is_not_set_up_over_onvif(alpha):
    from recording.services import motion_settings_update
    from tests.recording.media import point_at

    point_at(alpha.camera, "rtsp://127.0.0.1:8554/cam1", motion=MotionSource.SERVER)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        motion_settings_update(user=alpha.admin, camera=alpha.camera, motion_source=MotionSource.ONVIF)
    assert "set up over ONVIF" in str(caught.value)
    assert _row(alpha.camera).motion_source == MotionSource.SERVER  # nothing saved
